"""The project file: one SQLite database (sqlite.org's "application file format").

Why SQLite: one file a user can copy, transactions that survive a crash or a kill at any moment (WAL), and
fast indexed listing at 100k images. Every write goes through :meth:`Project.transaction`, so a batch is
either fully in the file or not at all.

One :class:`Project` holds one connection and must be used from one thread; a worker thread or process opens
its own ``Project`` on the same file (WAL lets readers and one writer work side by side).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import TracebackType

from micview import __version__
from micview.core.errors import DiskFullError, ProjectError, ProjectVersionError
from micview.core.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

PROJECT_SUFFIX = ".micview"
_BUSY_TIMEOUT_S = 30.0


def utc_now() -> str:
    """Timestamps are stored as ISO 8601 UTC strings: sortable, readable in any SQLite browser."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read_header(path: Path) -> tuple[int, int]:
    """Return (application_id, user_version) without writing anything to the file."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ProjectError(f"{path}: cannot open the project file ({exc}).") from exc
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{path}: this is not a micview project file ({exc}).") from exc
    finally:
        con.close()
    return int(app_id), int(version)


class Project:
    """An open ``.micview`` project file.

    Use :meth:`create` or :meth:`open`; close it (or use ``with``) to release the file.
    """

    def __init__(self, path: Path, con: sqlite3.Connection) -> None:
        self.path = path
        self.root = path.parent
        self._con = con
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
        project = cls._connect(path)
        project._migrate(0)
        with project.transaction() as con:
            con.execute("INSERT INTO meta VALUES ('created_by', ?), ('created_at', ?)", (__version__, utc_now()))
        return project

    @classmethod
    def open(cls, path: str | Path) -> Project:
        """Open an existing project, migrating an older schema forward.

        A file written by a newer micview raises :class:`ProjectVersionError` and is not modified in any way.
        """
        path = Path(path)
        if not path.is_file():
            raise ProjectError(f"{path}: no such project file.")
        app_id, version = _read_header(path)
        if app_id != APPLICATION_ID:
            raise ProjectError(f"{path}: this SQLite file is not a micview project.")
        if version > SCHEMA_VERSION:
            raise ProjectVersionError(
                f"{path} was saved by a newer micview (project format {version}; this micview "
                f"{__version__} reads up to {SCHEMA_VERSION}). Update micview to open it; the file was not changed."
            )
        project = cls._connect(path)
        project._migrate(version)
        return project

    @classmethod
    def _connect(cls, path: Path) -> Project:
        try:
            con = sqlite3.connect(path, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
            con.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed batch survives a power cut too, not only a killed process.
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise ProjectError(f"{path}: cannot open the project file ({exc}).") from exc
        return cls(path, con)

    def _migrate(self, version: int) -> None:
        for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
            try:
                self._con.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA application_id={APPLICATION_ID};\n"
                    f"PRAGMA user_version={target};\nCOMMIT;"
                )
            except sqlite3.Error as exc:
                if self._con.in_transaction:
                    self._con.execute("ROLLBACK")
                raise _translate(exc, self.path, f"upgrading the project to format {target}") from exc

    # -- life cycle --------------------------------------------------------------------------------------
    def close(self) -> None:
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

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing write: commit on success, roll back on any error (disk full included).

        Nested use joins the outer transaction.
        """
        if self._con.in_transaction:
            yield self._con
            return
        try:
            self._con.execute("BEGIN IMMEDIATE")
            yield self._con
            self._con.execute("COMMIT")
        except BaseException as exc:
            if self._con.in_transaction:
                self._con.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.path, "saving") from exc
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
            return PurePosixPath(p.relative_to(self.root.absolute())).as_posix()
        except ValueError:
            return p.as_posix()

    def resolve(self, stored: str) -> Path:
        """Absolute path of a stored path."""
        p = Path(stored)
        return p if p.is_absolute() else self.root / p


def _translate(exc: sqlite3.Error, path: Path, doing: str) -> ProjectError:
    text = str(exc).lower()
    if "disk is full" in text or "disk i/o" in text:
        return DiskFullError(
            f"{path}: the disk is full while {doing}. The last batch was not saved; everything before it is safe. "
            "Free some space and run the same command again."
        )
    if "readonly" in text or "read-only" in text:
        return ProjectError(f"{path}: the project file or its folder is read-only ({exc}).")
    if "locked" in text or "busy" in text:
        return ProjectError(f"{path}: another program is writing to this project; try again when it is done.")
    return ProjectError(f"{path}: error while {doing}: {exc}")
