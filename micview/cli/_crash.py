"""What the command line does with a bug: a short message for the scientist, the traceback in a log file.

A traceback helps whoever fixes micview, not the person at the microscope. :func:`write_crash_log` keeps it
(with the version, the platform and the command) in the user's cache folder, so the message can say where to
find it; ``micview --debug COMMAND`` (or ``MICVIEW_DEBUG=1``) shows it in the terminal instead.
"""

from __future__ import annotations

import errno
import os
import platform
import shlex
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from micview import __version__

LOG_DIR_ENV = "MICVIEW_LOG_DIR"
_KEEP = 20


def log_dir() -> Path:
    """Where crash logs go: ``$MICVIEW_LOG_DIR``, else the user cache folder's ``logs`` (not created here)."""
    env = os.environ.get(LOG_DIR_ENV)
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "micview" / "Cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "micview"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "micview"
    return base / "logs"


def _report(exc: BaseException, argv: Sequence[str]) -> str:
    head = [
        f"micview {__version__}",
        f"Python {sys.version.split()[0]} on {platform.platform()}",
        f"command: micview {shlex.join(argv)}",
        f"time: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        "",
    ]
    return "\n".join(head) + "".join(traceback.format_exception(exc))


def _prune(folder: Path) -> None:
    logs = sorted(folder.glob("crash-*.log"))
    for old in logs[:-_KEEP]:
        old.unlink(missing_ok=True)


def write_crash_log(exc: BaseException, argv: Sequence[str]) -> Path | None:
    """Write the traceback and context to a new log file; its path, or ``None`` when no folder was writable."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = _report(exc, argv)
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        path = folder / f"crash-{stamp}-{os.getpid()}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="backslashreplace")
            _prune(folder)
        except OSError:
            continue
        return path
    return None


def os_error_message(exc: OSError) -> str:
    """One line for an ``OSError`` on a named file that no command turned into a message itself."""
    from micview.core.atomic import reason

    name = exc.filename if isinstance(exc.filename, str) else os.fsdecode(exc.filename)
    other = f" -> {exc.filename2}" if exc.filename2 else ""
    why = reason(exc)
    if exc.errno == errno.EEXIST and Path(name).is_file():  # a folder was to be made where a file is
        why = "is a file, and a folder is needed there"
    return f"micview: error: {name}{other}: {why}."


def bug_message(exc: BaseException, log: Path | None) -> str:
    """The few lines a user sees instead of a traceback."""
    what = f"{type(exc).__name__}: {exc}"
    what = what if len(what) <= 300 else what[:297] + "..."
    where = f"The details are in {log}; please send that file with a report." if log else ""
    return (
        f"micview: unexpected error (a bug in micview, not a problem with your data): {what}\n"
        f"micview: {where} Work saved before the error is kept. Run the command with --debug to see the details."
    ).replace("micview:  ", "micview: ")
