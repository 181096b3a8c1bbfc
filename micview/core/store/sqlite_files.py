"""How a project file is looked at and connected to, without leaving traces where it must not.

Three things decide how micview may open a ``.micview`` file:

* its header (the first 100 bytes, read as plain bytes: no SQLite connection, so a refused file gets no
  ``-wal``/``-shm`` files beside it);
* whether the file and its folder can be written (WAL needs to create ``-wal`` and ``-shm`` beside the file);
* whether another process has it open (then a ``-wal`` file exists: SQLite deletes it at the last close).

Read-only connections use SQLite's ``mode=ro``; where even that cannot work (a read-only mount with no
``-shm`` file), ``immutable=1`` reads the main file alone, which is exact as long as no ``-wal`` holds newer
commits (a warning says so when one does).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from micview.core.errors import NotAProjectError, ProjectDamagedError, ProjectError
from micview.core.store.schema import APPLICATION_ID

log = logging.getLogger("micview.project")

_MAGIC = b"SQLite format 3\x00"
_PROJECT_TABLES = frozenset({"meta", "images", "annotations"})


@dataclass(frozen=True, slots=True)
class Header:
    """What the file's first page says: which program wrote it and in which project format."""

    application_id: int
    user_version: int


def side_file(path: Path, suffix: str) -> Path:
    """``project.micview-wal`` / ``-shm`` / ``-journal``."""
    return path.with_name(path.name + suffix)


def has_wal(path: Path) -> bool:
    """True when a ``-wal`` file exists: another process has the project open, or one crashed."""
    return side_file(path, "-wal").exists()


def wal_has_commits(path: Path) -> bool:
    """True when the ``-wal`` file holds pages (a 32-byte header alone holds no commits)."""
    try:
        return side_file(path, "-wal").stat().st_size > 32
    except OSError:
        return False


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{path.absolute().as_uri()}?{query}"


def read_header(path: Path) -> Header:
    """Classify the file from its raw header; raise a clear :class:`ProjectError` when it is not a project.

    Reads bytes only, so nothing is created beside a file that is then refused. Where the header alone cannot
    tell (a ``-wal`` file holds the first page after a crash, or the id looks foreign), SQLite is asked
    read-only, without side files where possible.
    """
    if not path.is_file():
        raise ProjectError(f"{path}: no such project file.")
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read the project file ({exc.strerror or exc}).") from exc
    if len(head) == 100 and head[:16] == _MAGIC:
        header = Header(int.from_bytes(head[68:72], "big"), int.from_bytes(head[60:64], "big"))
        if header.application_id == APPLICATION_ID:
            return header
    if has_wal(path):  # the newest first page may live in the -wal file (crash right after creation)
        header = _header_via_sqlite(path)
        if header.application_id == APPLICATION_ID:
            return header
    if len(head) < 100 or head[:16] != _MAGIC:
        raise NotAProjectError(
            f"{path}: this is not a micview project file (it is not an SQLite database"
            + (", it is empty)." if not head else ", or its first bytes are damaged).")
        )
    _raise_foreign_or_damaged(path)
    raise AssertionError("unreachable")


def _header_via_sqlite(path: Path) -> Header:
    try:
        con = sqlite3.connect(_uri(path, mode="ro"), uri=True)
    except sqlite3.Error as exc:
        raise ProjectError(f"{path}: cannot open the project file ({exc}).") from exc
    try:
        return Header(
            int(con.execute("PRAGMA application_id").fetchone()[0]),
            int(con.execute("PRAGMA user_version").fetchone()[0]),
        )
    except sqlite3.DatabaseError:
        return Header(0, 0)
    finally:
        con.close()


def _raise_foreign_or_damaged(path: Path) -> None:
    """An SQLite file with a foreign id: another program's database, or a project whose first page is hit."""
    try:
        con = sqlite3.connect(_uri(path, immutable="1"), uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise ProjectDamagedError(
            f"{path}: the file's first page is damaged ({exc}); micview cannot read it. "
            f"Restore a backup (micview backups {path})."
        ) from exc
    if tables >= _PROJECT_TABLES:
        raise ProjectDamagedError(
            f"{path}: the file's header is damaged (its micview id is gone). "
            f"Copy what is readable with: micview salvage {path} NEW.micview"
        )
    raise NotAProjectError(f"{path}: this SQLite file is not a micview project (it belongs to another program).")


def writable_reason(path: Path) -> str | None:
    """``None`` when the file and its folder can be written; else why not, in words."""
    if not os.access(path.parent, os.W_OK):
        return "its folder is read-only"
    if not os.access(path, os.W_OK):
        return "the file is read-only"
    return None


def connect_rw(path: Path, timeout_s: float) -> sqlite3.Connection:
    """A read-write connection that fails instead of silently falling back to read-only."""
    return sqlite3.connect(_uri(path, mode="rw"), uri=True, isolation_level=None, timeout=timeout_s)


def connect_ro(path: Path, timeout_s: float, *, prefer_immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection (SQLite refuses every write on it).

    ``prefer_immutable`` reads the main file alone when no ``-wal`` exists, so nothing is created beside it
    (for damaged files and one-off checks). Where ``mode=ro`` cannot work (a read-only folder without a
    ``-shm`` file), ``immutable=1`` is used too, and a ``-wal`` with commits is reported as unreadable.
    """
    if prefer_immutable and not has_wal(path):
        return _immutable(path, timeout_s)
    try:
        con = sqlite3.connect(_uri(path, mode="ro"), uri=True, isolation_level=None, timeout=timeout_s)
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError as exc:
        if "unable to open" not in str(exc):
            raise
    if wal_has_commits(path):
        log.warning(
            "%s: the newest changes are in %s, which cannot be read in this read-only folder; micview shows the "
            "project as it was before them. Copy the project together with that file to a writable folder "
            "to see them.",
            path,
            side_file(path, "-wal").name,
        )
    return _immutable(path, timeout_s)


def _immutable(path: Path, timeout_s: float) -> sqlite3.Connection:
    return sqlite3.connect(_uri(path, immutable="1"), uri=True, isolation_level=None, timeout=timeout_s)
