"""How SQLite's failures on a project become messages a microscopist understands.

SQLite reports a full disk, a damaged page, a read-only file or another writer's lock as an error string; these
helpers map each to the :class:`~micview.core.errors.ProjectError` subclass a UI can tell apart, with what to do.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from micview.core.errors import (
    DiskFullError,
    ProjectDamagedError,
    ProjectError,
    ProjectLockedError,
    ReadOnlyProjectError,
)
from micview.core.store.integrity import HealthReport

log = logging.getLogger("micview.project")


def warn_damaged(path: Path, health: HealthReport) -> None:
    log.warning(
        "%s is damaged (%s). micview opened it read-only and will not write into it. Details: micview check %s. "
        "Copy what is readable into a new project: micview salvage %s NEW.micview. Backups: micview backups %s.",
        path, health.describe_damage(), path, path, path,
    )  # fmt: skip


def is_locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def translate(exc: sqlite3.Error, path: Path, doing: str) -> ProjectError:
    text = str(exc).lower()
    if "disk is full" in text or "disk i/o" in text:
        return DiskFullError(
            f"{path}: the disk is full while {doing}. The last batch was not saved; everything before it is safe. "
            "Free some space and run the same command again."
        )
    if "malformed" in text or "not a database" in text:
        return ProjectDamagedError(
            f"{path} is damaged ({exc}) — found while {doing}; the last batch was not saved and micview writes "
            f"nothing more into it. Details: micview check {path}; rescue: micview salvage {path} NEW.micview."
        )
    if "readonly" in text or "read-only" in text:
        return ReadOnlyProjectError(f"{path}: the project file or its folder is read-only ({exc}).")
    if is_locked(exc):
        return ProjectLockedError(f"{path}: another program is writing to this project; try again when it is done.")
    return ProjectError(f"{path}: error while {doing}: {exc}")
