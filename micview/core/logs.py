"""micview's one log folder: the session log of the application and a file per crash, for CLI and GUI alike.

A traceback helps whoever fixes micview, not the person at the microscope. The command line and the window
both keep it here so their messages can say where to find it: ``$MICVIEW_LOG_DIR``, else ``logs`` in the
user's micview cache folder (``~/.cache/micview/logs`` on Linux, ``%LOCALAPPDATA%\\micview\\Cache\\logs`` on
Windows, ``~/Library/Caches/micview/logs`` on macOS). :func:`write_crash_log` writes one file per unexpected
error (the newest 20 kept); :func:`start_session_log` appends the application's log records to
``micview.log`` (rotated at 1 MB), which the crash dialog points to.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import shlex
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

LOG_DIR_ENV = "MICVIEW_LOG_DIR"
SESSION_LOG = "micview.log"
_KEEP = 20


def log_dir() -> Path:
    """Where logs go: ``$MICVIEW_LOG_DIR``, else the user cache folder's ``logs`` (not created here)."""
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


def crash_report(exc: BaseException, argv: Sequence[str]) -> str:
    """The build, the platform, the command and the traceback: what a bug report needs."""
    from micview.core.build_info import describe

    head = [
        describe(),
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


def _unused(path: Path) -> Path:
    n = 1
    while path.exists():
        n += 1
        path = path.with_name(f"{path.stem.rsplit('~', 1)[0]}~{n}.log")
    return path


def write_crash_log(exc: BaseException, argv: Sequence[str]) -> Path | None:
    """Write the traceback and context to a new log file; its path, or ``None`` when no folder was writable."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = crash_report(exc, argv)
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = _unused(folder / f"crash-{stamp}-{os.getpid()}.log")  # a window may fail twice in a second
            path.write_text(text, encoding="utf-8", errors="backslashreplace")
            _prune(folder)
        except OSError:
            continue
        return path
    return None


def start_session_log(level: int = logging.INFO) -> Path | None:
    """Send the ``micview`` logger's records to ``micview.log`` in :func:`log_dir`; its path (``None``: unwritable).

    Calling it again adds no second handler. A log that cannot be written never stops the application.
    """
    logger = logging.getLogger("micview")
    for handler in logger.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            return Path(handler.baseFilename)
    path = log_dir() / SESSION_LOG
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return path
