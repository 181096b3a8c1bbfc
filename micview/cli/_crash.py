"""What the command line does with a bug: a short message for the scientist, the traceback in a log file.

A traceback helps whoever fixes micview, not the person at the microscope. :func:`write_crash_log` keeps it
(with the build, the platform and the command) in micview's log folder (:mod:`micview.core.logs`, shared with
the window's crash dialog), so the message can say where to find it; ``micview --debug COMMAND`` (or
``MICVIEW_DEBUG=1``) shows it in the terminal instead.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from micview.core.logs import LOG_DIR_ENV, log_dir, write_crash_log

__all__ = ["LOG_DIR_ENV", "bug_message", "log_dir", "os_error_message", "write_crash_log"]


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
