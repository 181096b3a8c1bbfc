"""Finding damage in a project file: SQLite's own checks, the schema, and the links between tables.

Two depths:

* :func:`quick_health` runs at every open: SQLite's ``quick_check`` one table at a time, small tables first,
  stopped when a time budget runs out (a progress handler interrupts SQLite), so a 100k-image project still
  opens at once. The report says whether every table was covered.
* :func:`check_project` is ``micview check``: the full ``integrity_check``, the tables and columns against the
  schema of the file's format, the ids (``application_id``, ``user_version``) and ``foreign_key_check``.

Neither writes anything: the file is opened read-only, and immutable where no other process has it open.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from micview.core.errors import ProjectDamagedError
from micview.core.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from micview.core.store.sqlite_files import connect_ro, read_header

# Small, precious tables first: labels and recipes are checked even when the budget ends in thumbnails.
_CHECK_ORDER = (
    "meta", "label_tasks", "annotations", "notes", "tags", "image_fields", "runs", "images", "answers",
    "embeddings", "run_arrays", "thumbnails",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What a check found.

    ``ok`` is False when any damage was found. ``complete`` is False when a time budget ended the check before
    every table was read (``unchecked`` names them): no damage was found in what was checked.
    """

    path: Path
    ok: bool
    complete: bool
    problems: tuple[str, ...] = ()
    checked: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def damaged(self) -> bool:
        return not self.ok

    def describe_damage(self) -> str:
        """The first problem, and how many more there are."""
        first = self.problems[0] if self.problems else "damage found"
        return first + (f"; and {len(self.problems) - 1} more problems" if len(self.problems) > 1 else "")

    def summary(self) -> str:
        """One line for a banner or a log."""
        if not self.ok:
            return f"damaged: {self.describe_damage()}"
        if not self.complete:
            return f"no damage found in {len(self.checked)} tables; not checked in time: {', '.join(self.unchecked)}"
        return "intact"


def damage_error(exc: BaseException, path: Path | None = None) -> ProjectDamagedError | None:
    """The user-facing error for an SQLite error that means the file is damaged; None for any other error.

    A read that reaches a damaged page raises SQLite's own ``DatabaseError`` wherever it happens; a UI turns it
    into this message (what is damaged, how to check, how to salvage) instead of reporting a bug.
    """
    text = str(exc).lower()
    if not isinstance(exc, sqlite3.DatabaseError) or not ("malformed" in text or "not a database" in text):
        return None
    name = str(path) if path is not None else "PROJECT"
    return ProjectDamagedError(
        f"{path or 'the project file'} is damaged ({exc}): what micview tried to read is on a damaged part of the "
        f"file. See what is damaged with: micview check {name}; copy what is readable with: "
        f"micview salvage {name} NEW.micview"
    )


def _tables(con: sqlite3.Connection) -> list[str]:
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    order = {t: i for i, t in enumerate(_CHECK_ORDER)}
    return sorted((n for n in names if not n.startswith("sqlite_")), key=lambda n: (order.get(n, 50), n))


def _check_table(con: sqlite3.Connection, table: str) -> list[str]:
    """Problems SQLite finds in one table and its indexes (empty when intact)."""
    try:
        rows = con.execute(f'PRAGMA quick_check("{table}")').fetchall()
    except sqlite3.DatabaseError as exc:
        if "interrupted" in str(exc):
            raise
        return [f"table '{table}' cannot be read ({exc})"]
    lines = [ln for r in rows for ln in str(r[0]).splitlines() if ln and not ln.startswith("***")]
    return [] if lines == ["ok"] else [f"table '{table}': {ln}" for ln in lines]


def quick_health(
    con: sqlite3.Connection, path: Path, budget_s: float | None, *, skip: Collection[str] = ()
) -> HealthReport:
    """SQLite's ``quick_check`` table by table within ``budget_s`` seconds (``None``: no limit).

    ``skip`` names tables found intact a moment ago: they count as checked, and the budget goes to the others.
    """
    start = time.perf_counter()
    try:
        tables = _tables(con)
    except sqlite3.DatabaseError as exc:
        return HealthReport(path, False, True, (f"the list of tables cannot be read ({exc})",))
    problems: list[str] = []
    checked: list[str] = [t for t in tables if t in skip]
    tables = [t for t in tables if t not in skip] + checked
    if budget_s is not None:
        deadline = start + budget_s
        con.set_progress_handler(lambda: time.perf_counter() > deadline, 10_000)
    try:
        for table in tables[: len(tables) - len(checked)]:
            problems += _check_table(con, table)
            checked.append(table)
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
    finally:
        con.set_progress_handler(None, 0)
    unchecked = tuple(t for t in tables if t not in checked)
    return HealthReport(
        path, not problems, not unchecked, tuple(problems), tuple(checked), unchecked, time.perf_counter() - start
    )


def _expected(version: int) -> sqlite3.Connection:
    """An empty in-memory database with the schema of project format ``version``."""
    mem = sqlite3.connect(":memory:")
    for script in MIGRATIONS[:version]:
        mem.executescript(script)
    return mem


def _columns(con: sqlite3.Connection) -> dict[str, list[tuple[str, str, int, int]]]:
    out = {}
    for table in _tables(con):
        out[table] = [
            (r[1], str(r[2]).upper(), int(r[3]), int(r[5])) for r in con.execute(f'PRAGMA table_info("{table}")')
        ]
    return out


def _indexes(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


def schema_problems(con: sqlite3.Connection) -> list[str]:
    """Differences between the file's tables and what its project format says they must be."""
    app_id = int(con.execute("PRAGMA application_id").fetchone()[0])
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    problems = []
    if app_id != APPLICATION_ID:
        problems.append(f"application_id is {app_id:#x}, not micview's {APPLICATION_ID:#x}")
    if not 1 <= version <= SCHEMA_VERSION:
        return [*problems, f"project format {version} is not one this micview knows (1 to {SCHEMA_VERSION})"]
    mem = _expected(version)
    want, have = _columns(mem), _columns(con)
    for table, cols in want.items():
        if table not in have:
            problems.append(f"table '{table}' is missing")
        elif have[table] != cols:
            missing = sorted({c[0] for c in cols} - {c[0] for c in have[table]})
            problems.append(f"table '{table}' has other columns than format {version} defines" +
                            (f" (missing: {', '.join(missing)})" if missing else ""))  # fmt: skip
    problems += [f"index '{i}' is missing" for i in sorted(_indexes(mem) - _indexes(con))]
    mem.close()
    return problems


def foreign_key_problems(con: sqlite3.Connection) -> list[str]:
    """Rows that point at rows which are not there (e.g. labels of an image whose row is gone)."""
    counts: dict[tuple[str, str], int] = {}
    for table, _rowid, parent, _fk in con.execute("PRAGMA foreign_key_check"):
        counts[(table, parent)] = counts.get((table, parent), 0) + 1
    return [f"{n} rows of '{t}' refer to missing rows of '{p}'" for (t, p), n in sorted(counts.items())]


def check_project(path: str | Path, *, quick: bool = False) -> HealthReport:
    """Check a project file thoroughly, read-only: what ``micview check`` runs.

    ``quick`` uses SQLite's ``quick_check`` (no index-content comparison) instead of ``integrity_check``.
    A file that is not a project at all raises :class:`~micview.core.errors.ProjectError`; a damaged header is
    reported, not raised.
    """
    path = Path(path)
    start = time.perf_counter()
    try:
        read_header(path)
    except ProjectDamagedError as exc:
        return HealthReport(path, False, True, (str(exc),), seconds=time.perf_counter() - start)
    con = connect_ro(path, 5.0, prefer_immutable=True)
    try:
        problems, checked = _full_check(con, path, quick)
    finally:
        con.close()
    return HealthReport(path, not problems, True, tuple(problems), tuple(checked), seconds=time.perf_counter() - start)


def _full_check(con: sqlite3.Connection, path: Path, quick: bool) -> tuple[list[str], list[str]]:
    try:
        tables = _tables(con)
        rows = con.execute("PRAGMA quick_check(200)" if quick else "PRAGMA integrity_check(200)").fetchall()
        verdict = [ln for r in rows for ln in str(r[0]).splitlines() if ln and not ln.startswith("***")]
    except sqlite3.DatabaseError as exc:
        return [f"the file cannot be read as a whole ({exc})", *_per_table(con)], []
    problems = []
    if verdict != ["ok"]:
        per_table = _per_table(con)  # says which tables hold the damage
        problems += per_table or [f"file: {ln}" for ln in verdict]
        problems += [f"file: {ln}" for ln in verdict if ln.startswith("Page ") and "never used" in ln][:5]
    for probe in (schema_problems, foreign_key_problems):
        try:
            problems += probe(con)
        except sqlite3.DatabaseError as exc:
            problems.append(f"{probe.__name__.replace('_', ' ')}: cannot be checked ({exc})")
    return problems, tables


def _per_table(con: sqlite3.Connection) -> list[str]:
    try:
        tables = _tables(con)
    except sqlite3.DatabaseError as exc:
        return [f"the list of tables cannot be read ({exc})"]
    return [p for t in tables for p in _check_table(con, t)]
