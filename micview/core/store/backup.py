"""Consistent copies of a project: ``micview copy``, automatic backups, and restoring one.

Every copy goes through SQLite's online backup API from inside one read transaction, so it is one consistent
moment of the project — labels still in the ``-wal`` file included — even while another micview writes to it.
A copy is written beside its destination under a temporary name and renamed into place, and it is a single
file (rollback journal mode): nothing else needs to travel with it.

Backups live beside the project in ``.micview-backups/NAME-YYYYMMDD-HHMMSS-REASON.micview`` (UTC time).
micview makes one before upgrading a project's format and one a day when a project is opened for writing;
the newest few of each automatic kind are kept, backups made by hand are never deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from micview.core.errors import DiskFullError, ProjectDamagedError, ProjectError, ProjectVersionError
from micview.core.store.integrity import check_project
from micview.core.store.schema import SCHEMA_VERSION
from micview.core.store.sqlite_files import connect_ro, has_wal, read_header, side_file, writable_reason

if TYPE_CHECKING:
    from micview.core.store.project import Project

log = logging.getLogger("micview.project")

BACKUP_FOLDER = ".micview-backups"
KEEP_AUTOMATIC = 3
DAILY = timedelta(hours=24)
STEP_PAGES = 16384  # pages per backup step when progress is reported (64 MB of 4 KB pages)
_STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})-(?P<reason>[a-z0-9]+(?:-[a-z0-9]+)*)\.micview$")

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """One backup file: when it was made (UTC), why (``daily``, ``manual``, ``before-v3``, ...), its size."""

    path: Path
    created: datetime
    reason: str
    size_bytes: int

    @property
    def automatic(self) -> bool:
        return self.kind != "manual"

    @property
    def kind(self) -> str:
        """The reason without the ``-2`` that tells two backups of the same second apart."""
        return re.sub(r"-\d+$", "", self.reason)


def backups_folder(project_path: str | Path) -> Path:
    return Path(project_path).parent / BACKUP_FOLDER


def list_backups(project_path: str | Path) -> list[BackupInfo]:
    """Backups of this project, newest first (works even when the project itself cannot be read)."""
    project_path = Path(project_path)
    folder = backups_folder(project_path)
    out = []
    for path in folder.glob("*.micview") if folder.is_dir() else ():
        m = _NAME.match(path.name)
        if m and m["stem"] == project_path.stem:
            created = datetime.strptime(m["stamp"], _STAMP).replace(tzinfo=UTC)
            out.append(BackupInfo(path, created, m["reason"], path.stat().st_size))
    return sorted(out, key=lambda b: (b.created, b.path.name), reverse=True)


# -- the copy itself ---------------------------------------------------------------------------------------------
def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not possible on every platform (Windows); the rename is still atomic
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_error(exc: BaseException, dest: Path) -> ProjectError:
    text = str(exc).lower()
    if "full" in text or getattr(exc, "errno", None) == 28:
        return DiskFullError(f"{dest}: the disk is full; no copy was written. Free some space and try again.")
    return ProjectError(f"{dest}: the copy cannot be written ({getattr(exc, 'strerror', None) or exc}).")


def snapshot_copy(source: sqlite3.Connection, dest: Path, progress: ProgressFn | None = None) -> None:
    """Copy what ``source`` sees, as one consistent moment, to ``dest`` (atomic: a temporary file renamed).

    The read transaction pins the snapshot, so pages another process commits meanwhile are not mixed in.
    """
    if source.in_transaction:
        raise ProjectError("a copy cannot be made in the middle of a write; finish it first.")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        target = sqlite3.connect(tmp.absolute().as_uri() + "?mode=rwc", uri=True)
    except sqlite3.Error as exc:
        raise _write_error(exc, dest) from exc
    try:
        source.execute("BEGIN")
        try:
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if progress is None:
                source.backup(target)  # one step: the fastest
            else:  # in steps, for a progress bar; the pinned snapshot keeps them consistent
                step = lambda _s, left, total: progress(total - left, total)  # noqa: E731
                source.backup(target, pages=STEP_PAGES, progress=step)
        finally:
            source.execute("ROLLBACK")
        target.execute("PRAGMA journal_mode=DELETE")  # one file: nothing needs to travel with the copy
        target.close()
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException as exc:
        target.close()
        for leftover in (tmp, side_file(tmp, "-wal"), side_file(tmp, "-shm"), side_file(tmp, "-journal")):
            leftover.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.DatabaseError) and "malformed" in str(exc):
            raise ProjectDamagedError(f"the project is too damaged to copy ({exc}).") from exc
        if isinstance(exc, sqlite3.Error | OSError):
            raise _write_error(exc, dest) from exc
        raise


@contextlib.contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that only reads ``path`` and leaves no ``-wal``/``-shm`` files behind where it can help it.

    In a writable folder an ordinary connection (writes switched off) is used: SQLite removes the side files at
    the last close. Elsewhere a read-only one.
    """
    read_header(path)
    if writable_reason(path) is None:
        con = sqlite3.connect(path.absolute().as_uri() + "?mode=rw", uri=True, isolation_level=None, timeout=30)
        con.execute("PRAGMA query_only=ON")
    else:
        con = connect_ro(path, 30.0)
    try:
        yield con
    finally:
        con.close()


def _free_space_for(folder: Path, con: sqlite3.Connection, *, automatic: bool = False) -> None:
    """Refuse before writing a copy that does not fit; a backup must also leave room for the work itself."""
    size = int(con.execute("PRAGMA page_count").fetchone()[0]) * int(con.execute("PRAGMA page_size").fetchone()[0])
    free = shutil.disk_usage(folder).free
    if free < size + (max(500_000_000, size // 5) if automatic else 10_000_000):
        raise DiskFullError(
            f"{folder}: not enough free space for a copy of the project ({size / 1e6:.0f} MB needed, "
            f"{free / 1e6:.0f} MB free). Free some space and try again."
        )


def copy_project(
    src: str | Path, dest: str | Path, *, overwrite: bool = False, progress: ProgressFn | None = None
) -> Path:
    """Write a consistent, single-file copy of a project (``micview copy``; File → Save a copy).

    Safe while the project is open in another micview: the copy holds every committed change, also those still
    in the ``-wal`` file. ``dest`` may be a folder (the copy keeps the project's name). Returns the copy's path.
    """
    src, dest = Path(src), Path(dest)
    if dest.is_dir():
        dest = dest / src.name
    elif dest.suffix != ".micview":
        dest = dest.with_name(dest.name + ".micview")
    if not dest.parent.is_dir():
        raise ProjectError(f"{dest.parent}: no such folder.")
    if dest.exists() and dest.resolve() == src.resolve():
        raise ProjectError(f"{dest}: that is the project itself; choose another name or folder.")
    if dest.exists() and not overwrite:
        raise ProjectError(f"{dest} already exists; choose another name (or replace it on purpose).")
    with reading(src) as con:
        _free_space_for(dest.parent, con)
        snapshot_copy(con, dest, progress)
    return dest


# -- backups -----------------------------------------------------------------------------------------------------
def _backup_path(project_path: Path, reason: str, now: datetime) -> Path:
    folder = backups_folder(project_path)
    base = f"{project_path.stem}-{now.strftime(_STAMP)}-{reason}"
    path, n = folder / f"{base}.micview", 2
    while path.exists():
        path, n = folder / f"{base}-{n}.micview", n + 1
    return path


def backup_project(
    project: Project | str | Path, *, reason: str = "manual", keep: int = KEEP_AUTOMATIC, now: datetime | None = None
) -> Path:
    """Make a consistent backup beside the project and prune old automatic ones; return its path.

    ``project`` is an open :class:`Project` (its own connection is read) or a path. ``reason`` names the backup
    (``manual`` ones are never pruned); of each automatic kind the newest ``keep`` are kept.
    """
    path = Path(project) if isinstance(project, str | Path) else project.path
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", reason):
        raise ValueError(f"backup reason {reason!r}: use lowercase letters, digits and '-'")
    read_header(path)  # a missing file or not a project: say that, not that the folder is wrong
    target = _backup_path(path, reason, now or datetime.now(UTC))
    try:
        target.parent.mkdir(exist_ok=True)
    except OSError as exc:
        raise ProjectError(f"{target.parent}: no backup can be made there ({exc.strerror or exc}).") from exc
    automatic = reason != "manual"
    if isinstance(project, str | Path):
        with reading(path) as con:
            _free_space_for(target.parent, con, automatic=automatic)
            snapshot_copy(con, target)
    else:
        _free_space_for(target.parent, project.con, automatic=automatic)
        snapshot_copy(project.con, target)
    _prune(path, keep)
    return target


def _prune(project_path: Path, keep: int) -> None:
    seen: dict[str, int] = {}
    for b in list_backups(project_path):
        if b.automatic:
            seen[b.kind] = seen.get(b.kind, 0) + 1
            if seen[b.kind] > keep:
                b.path.unlink(missing_ok=True)


def daily_backup_due(project: Project, now: datetime | None = None) -> bool:
    """True when neither a backup nor the project's creation is less than a day old."""
    now = now or datetime.now(UTC)
    newest = [b.created for b in list_backups(project.path)[:1]]
    created = project.get_meta("created_at")
    with contextlib.suppress(ValueError, TypeError):
        newest.append(datetime.fromisoformat(str(created)))
    return not newest or now - max(newest) >= DAILY


# -- restoring ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RestoreResult:
    """``project`` now holds ``restored_from``; what it held before is kept in ``previous`` (None: no file)."""

    project: Path
    restored_from: Path
    previous: Path | None


def _keep_previous(project_path: Path) -> Path | None:
    """Back up what the project holds now; a raw byte copy where SQLite cannot read it (a damaged file)."""
    if not project_path.exists():
        return None
    try:
        return backup_project(project_path, reason="before-restore")
    except (ProjectError, sqlite3.Error):
        target = _backup_path(project_path, "before-restore", datetime.now(UTC))
        target.parent.mkdir(exist_ok=True)
        shutil.copy2(project_path, target)
        if has_wal(project_path):
            shutil.copy2(side_file(project_path, "-wal"), side_file(target, "-wal"))
        return target


def restore_backup(project_path: str | Path, backup: str | Path, *, force: bool = False) -> RestoreResult:
    """Put a backup's content back into the project (``micview restore``).

    The backup is checked first (``force`` restores a damaged one anyway). What the project holds now is backed
    up as ``before-restore``, so a restore can itself be undone. The content is written through SQLite's backup
    API, so a micview that has the project open sees the restored state and nothing is torn.
    """
    project_path, backup = Path(project_path), Path(backup)
    header = read_header(backup)
    if header.user_version > SCHEMA_VERSION:
        raise ProjectVersionError(f"{backup} was saved by a newer micview; update micview to restore it.")
    health = check_project(backup, quick=True)
    if health.damaged and not force:
        raise ProjectDamagedError(f"{backup} is damaged too ({health.summary()}); choose another backup.")
    previous = _keep_previous(project_path)
    source = connect_ro(backup, 30.0, prefer_immutable=True)
    try:
        _write_into(source, project_path)
    finally:
        source.close()
    log.info("%s: restored from %s; the previous state is in %s", project_path, backup, previous)
    return RestoreResult(project_path, backup, previous)


def _write_into(source: sqlite3.Connection, project_path: Path) -> None:
    if project_path.exists():
        try:
            target = sqlite3.connect(project_path.absolute().as_uri() + "?mode=rw", uri=True, timeout=30)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode=WAL")
                return
            finally:
                target.close()
        except sqlite3.Error as exc:
            if has_wal(project_path):  # someone has it open: replacing the file under them would tear it
                raise ProjectError(
                    f"{project_path}: cannot restore while it is open elsewhere ({exc}). "
                    "Close the other micview windows and try again."
                ) from exc
    snapshot_copy(source, project_path)
