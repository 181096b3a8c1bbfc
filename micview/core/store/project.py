"""The project file: one SQLite database (sqlite.org's "application file format").

Why SQLite: one file a user can copy, transactions that survive a crash or a kill at any moment (WAL), and
fast indexed listing at 100k images. Every write goes through :meth:`Project.transaction`, so a batch is
either fully in the file or not at all.

Opening never makes things worse: a file that is not a project, or one from a newer micview, is refused before
SQLite touches it; a damaged project (found by a quick check within a small time budget, or by SQLite later) and
a project in a read-only place open read-only and say why; a write to them raises
:class:`~micview.core.errors.ReadOnlyProjectError`. Before a format upgrade and once a day a backup is made
beside the project (:mod:`~micview.core.store.backup`). Closing checkpoints the WAL, so a closed project is
one file.

One :class:`Project` holds one connection and must be used from one thread; a worker thread or process opens
its own ``Project`` on the same file (WAL lets readers and one writer work side by side).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TypeVar

from micview import __version__
from micview.core.errors import (
    ProjectDamagedError,
    ProjectError,
    ProjectLockedError,
    ProjectVersionError,
    ReadOnlyProjectError,
)
from micview.core.store.failures import is_locked, translate, warn_damaged
from micview.core.store.integrity import HealthReport, quick_health
from micview.core.store.paths import decode_path, encode_path
from micview.core.store.schema import APPLICATION_ID, MIGRATIONS, READABLE_FROM, SCHEMA_VERSION
from micview.core.store.sqlite_files import connect_ro, connect_rw, has_wal, read_header, writable_reason

PROJECT_SUFFIX = ".micview"
_BUSY_TIMEOUT_S = 30.0  # how long a write waits, in all, for another writer to finish
_BUSY_NOTICE_S = 2.0  # ... and after how long it says that it is waiting
OPEN_CHECK_BUDGET_S = 0.3  # the quick check at open stops here; the next open goes on where it stopped
_CHECK_MEMORY_S = 600.0  # tables found intact by this process are not checked again for this long
_DAMAGED = "the project file is damaged"

log = logging.getLogger("micview.project")
_T = TypeVar("_T")
_checked: dict[tuple[int, int], tuple[float, frozenset[str]]] = {}


def utc_now() -> str:
    """Timestamps are stored as ISO 8601 UTC strings: sortable, readable in any SQLite browser."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _identity(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _open_check(con: sqlite3.Connection, path: Path) -> HealthReport:
    """The quick check at open, remembering per process which tables were found intact and when."""
    key = _identity(path)
    when, known = _checked.get(key, (0.0, frozenset()))
    if time.monotonic() - when > _CHECK_MEMORY_S:
        known = frozenset()
    report = quick_health(con, path, OPEN_CHECK_BUDGET_S, skip=known)
    if report.ok:
        _checked[key] = (time.monotonic(), known | frozenset(report.checked))
    else:
        _checked.pop(key, None)
    return report


class Project:
    """An open ``.micview`` project file.

    Use :meth:`create` or :meth:`open`; close it (or use ``with``) to release the file. ``read_only`` tells
    whether writes are refused and ``read_only_reason`` why; ``health`` is what the check at open found.
    """

    def __init__(
        self, path: Path, con: sqlite3.Connection, *, read_only: str | None = None, health: HealthReport | None = None
    ) -> None:
        self.path = path
        self.root = path.parent
        self._con = con
        self.read_only_reason = read_only
        self.health = health if health is not None else HealthReport(path, ok=True, complete=False)
        from micview.core.store.annotations import Annotations
        from micview.core.store.answers import Answers
        from micview.core.store.embeddings import Embeddings
        from micview.core.store.fields import Fields
        from micview.core.store.images import Images
        from micview.core.store.runs import Runs

        self.images = Images(self)
        self.labels = Annotations(self)
        self.embeddings = Embeddings(self)
        self.runs = Runs(self)
        self.fields = Fields(self)
        self.answers = Answers(self)

    # -- opening -----------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, overwrite: bool = False) -> Project:
        """Create a new, empty project file (refuses to replace an existing file unless ``overwrite``)."""
        path = Path(path)
        if path.suffix != PROJECT_SUFFIX:
            path = path.with_name(path.name + PROJECT_SUFFIX)
        if path.exists():
            if not overwrite:
                raise ProjectError(f"{path} already exists; open it, or choose another name.")
            path.unlink()
        if not path.parent.is_dir():
            raise ProjectError(f"{path.parent} is not a folder.")
        if not os.access(path.parent, os.W_OK):
            raise ReadOnlyProjectError(f"{path.parent} is read-only; create the project in a folder you can write to.")
        try:
            con = sqlite3.connect(path.absolute().as_uri() + "?mode=rwc", uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise translate(exc, path, "creating the project") from exc
        project = cls(path, con, health=HealthReport(path, ok=True, complete=True))
        try:
            project._set_pragmas()
            project._migrate(0)
            with project.transaction() as c:
                c.execute("INSERT INTO meta VALUES ('created_by', ?), ('created_at', ?)", (__version__, utc_now()))
        except BaseException:
            con.close()
            raise
        return project

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> Project:
        """Open an existing project, migrating an older format forward (after a backup).

        Refused without touching the file: a missing file, one that is not a project
        (:class:`~micview.core.errors.NotAProjectError`), one from a newer micview (:class:`ProjectVersionError`).
        Opened read-only, with a warning logged on ``micview.project``: a damaged project, one whose file or folder
        cannot be written. ``read_only=True`` asks for read-only on purpose (no warning).
        """
        path = Path(path)
        header = read_header(path)
        if header.user_version > SCHEMA_VERSION:
            raise ProjectVersionError(
                f"{path} was saved by a newer micview (project format {header.user_version}; this micview "
                f"{__version__} reads up to {SCHEMA_VERSION}). Update micview to open it; the file was not changed."
            )
        if read_only:
            return cls._open_read_only(path, header.user_version, "it was opened read-only on purpose", asked=True)
        reason = writable_reason(path)
        if reason is not None:
            return cls._open_read_only(path, header.user_version, reason)
        return cls._open_for_writing(path, header.user_version)

    @classmethod
    def _open_read_only(cls, path: Path, version: int, reason: str, *, asked: bool = False) -> Project:
        if version < READABLE_FROM:
            raise ProjectError(
                f"{path} is in an older project format ({version}) and {reason}, so it cannot be upgraded here. "
                f"Copy it to a writable folder (micview copy {path} DEST) and open the copy."
            )
        if asked and writable_reason(path) is None:
            con = connect_rw(path, _BUSY_TIMEOUT_S)  # SQLite tidies up -wal/-shm when this one closes last
            con.execute("PRAGMA query_only=ON")
        else:  # no -wal in a read-only place means no writer can exist: immutable reads are exact, and leave no files
            con = connect_ro(path, _BUSY_TIMEOUT_S, prefer_immutable=True)
        try:
            health = _open_check(con, path)
        except BaseException:
            con.close()
            raise
        if health.damaged:
            warn_damaged(path, health)
            reason = _DAMAGED
        elif not asked:
            log.warning("%s: opened read-only because %s; changes cannot be saved.", path, reason)
        return cls(path, con, read_only=reason, health=health)

    @classmethod
    def _open_for_writing(cls, path: Path, version: int) -> Project:
        # The check reads through its own read-only connection: a damaged file gets no write, not even a WAL switch.
        in_use = has_wal(path)
        checker = connect_ro(path, _BUSY_TIMEOUT_S, prefer_immutable=True)
        try:
            health = _open_check(checker, path)
            if health.damaged and not in_use and has_wal(path):  # a writer came during an immutable read: ask again
                checker.close()
                checker = connect_ro(path, _BUSY_TIMEOUT_S)
                health = quick_health(checker, path, None)
        finally:
            checker.close()
        if health.damaged:
            warn_damaged(path, health)
            return cls(
                path, connect_ro(path, _BUSY_TIMEOUT_S, prefer_immutable=True), read_only=_DAMAGED, health=health
            )
        try:
            con = connect_rw(path, _BUSY_TIMEOUT_S)
        except sqlite3.OperationalError:  # writable by its mode bits, yet not here (e.g. a read-only share)
            return cls._open_read_only(path, version, "the project file cannot be written here")
        project = cls(path, con, health=health)
        try:
            project._set_pragmas()
            project._upgrade()
            project._after_open()
        except BaseException:
            con.close()
            raise
        return project

    def _set_pragmas(self) -> None:
        def run() -> None:
            self._con.execute("PRAGMA journal_mode=WAL")

        self._wait_for_writer(run, "opening")
        # FULL: a committed batch survives a power cut too, not only a killed process.
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.execute("PRAGMA foreign_keys=ON")

    def _upgrade(self) -> None:
        version = self.schema_version
        if version >= SCHEMA_VERSION:
            return
        from micview.core.store.backup import backup_project

        try:
            saved = backup_project(self, reason=f"before-v{SCHEMA_VERSION}")
        except ProjectError as exc:
            raise ProjectError(
                f"{self.path} needs an upgrade to project format {SCHEMA_VERSION}, and micview makes a backup first, "
                f"which failed: {exc} Nothing was changed."
            ) from exc
        log.info("%s: backed up to %s before upgrading to format %d", self.path, saved, SCHEMA_VERSION)
        self._migrate(version)

    def _after_open(self) -> None:
        """Housekeeping a writable open does: interrupted runs, today's backup. Failures only warn."""
        from micview.core.store.backup import backup_project, daily_backup_due

        try:
            if stale := self.runs.mark_interrupted():
                log.info("%s: runs %s had stopped with their process; marked interrupted", self.path, stale)
        except ProjectError as exc:
            log.warning("%s: unfinished runs could not be marked interrupted (%s)", self.path, exc)
        try:
            if daily_backup_due(self):
                backup_project(self, reason="daily")
        except (ProjectError, OSError) as exc:
            log.warning("%s: today's backup could not be made (%s); the project itself is fine.", self.path, exc)

    def _migrate(self, version: int) -> None:
        for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
            sql = (
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA application_id={APPLICATION_ID};\n"
                f"PRAGMA user_version={target};\nCOMMIT;"
            )
            try:
                self._wait_for_writer(partial(self._con.executescript, sql), "upgrading the project")
            except sqlite3.Error as exc:
                if self._con.in_transaction:
                    self._con.execute("ROLLBACK")
                raise translate(exc, self.path, f"upgrading the project to format {target}") from exc

    # -- life cycle --------------------------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        """True when this project refuses writes (``read_only_reason`` says why)."""
        return self.read_only_reason is not None

    def require_writable(self) -> None:
        """Raise :class:`ReadOnlyProjectError` now, before long work whose results could not be saved."""
        if self.read_only_reason is None:
            return
        hint = (
            f" Save what is readable with: micview salvage {self.path} NEW.micview (or micview backups {self.path})."
            if self.read_only_reason == _DAMAGED
            else ""
        )
        raise ReadOnlyProjectError(
            f"{self.path} is open read-only because {self.read_only_reason}; nothing was written.{hint}"
        )

    def close(self) -> None:
        """Close, first copying committed changes from the ``-wal`` file into the project file.

        The checkpoint never waits: a reader elsewhere that still needs older pages just leaves them for later.
        """
        if self.read_only_reason is None:
            with contextlib.suppress(sqlite3.Error):
                self._con.execute("PRAGMA busy_timeout = 0")
                self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        self._con.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------------------------------
    @property
    def con(self) -> sqlite3.Connection:
        """The connection, for reads. Writes go through :meth:`transaction`."""
        return self._con

    def _wait_for_writer(self, run: Callable[[], _T], doing: str) -> _T:
        """Run ``run`` (which takes the write lock); if another writer holds it, say so after 2 s and wait on."""
        con = self._con
        try:
            con.execute(f"PRAGMA busy_timeout = {int(_BUSY_NOTICE_S * 1000)}")
            try:
                return run()
            except sqlite3.OperationalError as exc:
                if not is_locked(exc):
                    raise
            rest = max(_BUSY_TIMEOUT_S - _BUSY_NOTICE_S, 0.0)
            log.warning(
                "%s: another micview (or another program) is writing to this project; waiting up to %.0f s more "
                "for it to finish…", self.path, rest,
            )  # fmt: skip
            con.execute(f"PRAGMA busy_timeout = {int(rest * 1000)}")
            try:
                return run()
            except sqlite3.OperationalError as exc:
                if not is_locked(exc):
                    raise
                raise ProjectLockedError(
                    f"{self.path}: another micview (or another program) kept this project locked for writing for "
                    f"{_BUSY_TIMEOUT_S:.0f} s while {doing}; nothing was written. Wait until its work is done, or "
                    "close it, and try again."
                ) from exc
        finally:
            con.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing write: commit on success, roll back on any error (disk full included).

        Nested use joins the outer transaction. A read-only project raises :class:`ReadOnlyProjectError`.
        """
        self.require_writable()
        if self._con.in_transaction:
            yield self._con
            return
        try:
            self._wait_for_writer(lambda: self._con.execute("BEGIN IMMEDIATE"), "saving")
            yield self._con
            self._con.execute("COMMIT")
        except BaseException as exc:
            if self._con.in_transaction:
                self._con.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                error = translate(exc, self.path, "saving")
                if isinstance(error, ProjectDamagedError):
                    self.read_only_reason = _DAMAGED  # never write into it again in this session
                raise error from exc
            raise

    # -- meta and paths -------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def schema_version(self) -> int:
        return int(self._con.execute("PRAGMA user_version").fetchone()[0])

    def to_stored(self, path: str | Path) -> str:
        """Path as stored: POSIX and relative to the project's folder when inside it, so the folder can move."""
        p = Path(path).absolute()
        try:
            text = PurePosixPath(p.relative_to(self.root.absolute())).as_posix()
        except ValueError:
            text = p.as_posix()
        return encode_path(text)  # a name that is not valid UTF-8 is stored as a readable, reversible escape

    def resolve(self, stored: str) -> Path:
        """Absolute path of a stored path."""
        p = Path(decode_path(stored))
        return p if p.is_absolute() else self.root / p
