"""The ``micview`` command: subcommands over the same core functions the GUI calls.

``micview`` alone (or with a project file) opens the GUI.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from micview import __version__
from micview.core.errors import Cancelled, MicviewError

# Each module has register(subparsers); they import their heavy libraries inside the command functions only.
_COMMAND_MODULES = ("_project_cmds", "_model_cmds", "_plate_cmds", "_vqa_cmds", "_classify_cmds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="micview",
        description="Browse, embed, search and classify microscopy images, offline. "
        "Run without a command to open the application.",
    )
    parser.add_argument("--version", action="version", version=f"micview {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"micview.cli.{name}").register(sub)
    return parser


def _open_gui(argv: Sequence[str]) -> int:
    try:
        from micview.gui.app import run_app
    except ImportError as exc:  # e.g. Qt's system libraries are missing on a headless server
        print(f"micview: the window cannot start here ({exc}). The commands below work without it.\n", file=sys.stderr)
        build_parser().print_help()
        return 1
    return int(run_app(list(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (len(argv) == 1 and argv[0].endswith(".micview")):
        return _open_gui(argv)
    args = build_parser().parse_args(argv)
    if not hasattr(args, "func"):
        build_parser().print_help()
        return 2
    try:
        return int(args.func(args))
    except Cancelled as exc:
        print(f"micview: {exc}", file=sys.stderr)
        return 130
    except MicviewError as exc:
        print(f"micview: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `micview info ... | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("micview: interrupted", file=sys.stderr)
        return 130
