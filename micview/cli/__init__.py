"""The ``micview`` command: subcommands over the same core functions the GUI calls.

``micview`` alone (or with a project file) opens the GUI.
"""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence

from micview.core.errors import Cancelled, MicviewError

# Each module has register(subparsers); they import their heavy libraries inside the command functions only.
_COMMAND_MODULES = (
    "_project_cmds", "_task_cmds", "_model_cmds", "_plate_cmds", "_vqa_cmds", "_classify_cmds", "_safety_cmds",
    "_watch_cmds", "_analysis_cmds",
)  # fmt: skip


class _VersionAction(argparse.Action):
    """``--version`` names the build (frozen app, checkout or package, and the commit), asked only when used."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from micview.core.build_info import describe

        print(describe())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="micview",
        description="Browse, embed, search and classify microscopy images, offline. "
        "Run without a command to open the application.",
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and build, then exit")
    parser.add_argument("--self-test", action="store_true", help="check this installation end to end, then exit")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"micview.cli.{name}").register(sub)
    return parser


def _open_gui(argv: Sequence[str]) -> int:
    from micview.cli._display import display_problem

    if problem := display_problem():  # before Qt: it aborts the process (exit 134) when it cannot open a window
        print(problem, file=sys.stderr)
        return 1
    try:
        from micview.gui.app import run_app
    except ImportError as exc:  # e.g. Qt's system libraries are missing on a headless server
        print(f"micview: the window cannot start here ({exc}). The commands below work without it.\n", file=sys.stderr)
        build_parser().print_help()
        return 1
    return int(run_app(list(argv)))


def _run(argv: list[str]) -> int:
    if not argv or (len(argv) == 1 and argv[0].endswith(".micview")):
        return _open_gui(argv)
    args = build_parser().parse_args(argv)
    if args.self_test:
        from micview.cli._selftest import run_self_test

        return run_self_test()
    if not hasattr(args, "func"):
        build_parser().print_help()
        return 2
    return int(args.func(args))


def _readable_output() -> None:
    """Print any file name, even one that is not valid in the terminal's encoding, instead of failing on it."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


class _WarningPrinter(logging.Handler):
    """The core's warnings (a damaged or read-only project, waiting for another writer) as one stderr line."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"micview: warning: {record.getMessage()}", file=sys.stderr)


def _print_warnings() -> None:
    logger = logging.getLogger("micview")
    if not any(isinstance(h, _WarningPrinter) for h in logger.handlers):
        logger.addHandler(_WarningPrinter(logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors a user can cause are one-line messages (exit 1), Ctrl-C exits 130.

    Anything else is a bug: a short message and the path of a log file with the traceback (exit 1), or the
    traceback itself with ``--debug`` or ``MICVIEW_DEBUG=1``. argparse's own errors exit 2.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or bool(os.environ.get("MICVIEW_DEBUG"))
    argv = [a for a in argv if a != "--debug"]
    _readable_output()
    _print_warnings()
    try:
        return _run(argv)
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
    except OSError as exc:
        if debug or exc.filename is None:
            return _bug(exc, argv, debug)
        from micview.cli._crash import os_error_message

        print(os_error_message(exc), file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:  # a read that reached a damaged page of a project is not a bug
        from micview.core.store.integrity import damage_error

        if (damaged := damage_error(exc)) is None:
            return _bug(exc, argv, debug)
        print(f"micview: error: {damaged}", file=sys.stderr)
        return 1
    except MemoryError:
        print("micview: error: out of memory; try fewer images at once (e.g. a smaller --batch-size)", file=sys.stderr)
        return 1
    except Exception as exc:  # the last resort: a bug must never reach a scientist as a traceback
        return _bug(exc, argv, debug)


def _bug(exc: BaseException, argv: list[str], debug: bool) -> int:
    from micview.cli._crash import bug_message, write_crash_log

    if debug:
        raise exc
    print(bug_message(exc, write_crash_log(exc, argv)), file=sys.stderr)
    return 1
