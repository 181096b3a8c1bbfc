"""Copy what can still be read from a damaged project into a new one (``micview salvage``).

The damaged file is only read (immutable where nobody has it open). Each table is copied in id order, in
chunks; where a chunk hits a damaged page, the rows around it are fetched one by one by row id, so only the
rows on the damaged pages are lost, and their id ranges are reported. Rows that the new file's constraints reject
are reported too. Rows left pointing at lost rows (labels of an image whose row is gone) are dropped, or their
reference cleared where the schema says ``ON DELETE SET NULL``, and counted. The new project gets the current
schema, so a salvage also rebuilds every index from the table data.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from micview.core.errors import ProjectDamagedError, ProjectError, ProjectVersionError
from micview.core.store.integrity import HealthReport, check_project
from micview.core.store.project import Project, utc_now
from micview.core.store.schema import SCHEMA_VERSION
from micview.core.store.sqlite_files import connect_ro, read_header

log = logging.getLogger("micview.project")
_CHUNK = 500
_GAP_GIVE_UP = 10_000  # after this many unreadable ids past the last readable one, a table's end is assumed


@dataclass(slots=True)
class TableSalvage:
    """One table: rows copied, id ranges that could not be read, rows the new file refused, orphans dropped."""

    name: str
    copied: int = 0
    error: str | None = None  # the whole table could not be read
    unreadable: list[tuple[int, int]] = field(default_factory=list)
    refused: int = 0
    orphans: int = 0

    @property
    def intact(self) -> bool:
        return not (self.error or self.unreadable or self.refused or self.orphans)

    def describe(self) -> str:
        parts = [f"{self.copied} rows copied"]
        if self.error:
            parts.append(f"the table cannot be read ({self.error})")
        if self.unreadable:
            spans = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.unreadable[:5])
            more = f" and {len(self.unreadable) - 5} more ranges" if len(self.unreadable) > 5 else ""
            parts.append(f"unreadable row ids {spans}{more}")
        if self.refused:
            parts.append(f"{self.refused} garbled rows refused")
        if self.orphans:
            parts.append(f"{self.orphans} rows dropped or unlinked because what they refer to was lost")
        return f"{self.name}: " + "; ".join(parts)


@dataclass(slots=True)
class SalvageReport:
    source: Path
    dest: Path
    tables: list[TableSalvage]
    health: HealthReport | None = None

    @property
    def complete(self) -> bool:
        """True when every row was recovered."""
        return all(t.intact for t in self.tables)


def _rows_from(src: sqlite3.Connection, table: str, cols: str, after: int) -> list[tuple[Any, ...]]:
    sql = f'SELECT rowid, {cols} FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT {_CHUNK}'
    return src.execute(sql, (after,)).fetchall()


def _max_rowid(src: sqlite3.Connection, table: str) -> int | None:
    try:
        return src.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0]  # type: ignore[no-any-return]
    except sqlite3.DatabaseError:
        return None


def _read_table(src: sqlite3.Connection, table: str, cols: str, report: TableSalvage) -> Iterator[tuple[Any, ...]]:
    """Every readable row (rowid first), chunk by chunk, one id at a time around damaged pages."""
    last, top = 0, _max_rowid(src, table)
    while True:
        try:
            chunk = _rows_from(src, table, cols, last)
        except sqlite3.DatabaseError:
            last, resumed = yield from _one_by_one(src, table, cols, last, top, report)
            if not resumed:
                return
            continue
        if not chunk:
            return
        yield from chunk
        last = int(chunk[-1][0])


def _one_by_one(
    src: sqlite3.Connection, table: str, cols: str, last: int, top: int | None, report: TableSalvage
) -> Generator[tuple[Any, ...], None, tuple[int, bool]]:
    """Fetch ids after ``last`` singly until a chunk read works again.

    Returns the last id fetched and whether chunks work again (False: the table's end was reached).
    """
    sql = f'SELECT rowid, {cols} FROM "{table}" WHERE rowid = ?'
    rid, bad_from, misses = last, None, 0
    while (top is None and misses < _GAP_GIVE_UP) or (top is not None and rid < top):
        rid += 1
        try:
            row = src.execute(sql, (rid,)).fetchone()
        except sqlite3.DatabaseError:
            bad_from = rid if bad_from is None else bad_from
            misses += 1
            continue
        if bad_from is not None:
            report.unreadable.append((bad_from, rid - 1))
            bad_from = None
        misses = 0 if row is not None else misses + 1
        if row is not None:
            yield row
            try:  # back to chunks as soon as the damaged pages are behind
                _rows_from(src, table, cols, rid)
                return rid, True
            except sqlite3.DatabaseError:
                pass
    if bad_from is not None:
        report.unreadable.append((bad_from, rid if top is not None else max(bad_from, rid - misses)))
    if top is None:
        report.error = "its last rows cannot be located; rows after those copied may be missing"
    return rid, False


def _copy_table(src: sqlite3.Connection, dest: sqlite3.Connection, table: str) -> TableSalvage:
    report = TableSalvage(table)
    try:
        have = [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]
    except sqlite3.DatabaseError as exc:
        report.error = str(exc)
        return report
    want = [r[1] for r in dest.execute(f'PRAGMA table_info("{table}")')]
    cols = [c for c in want if c in have]
    names = ", ".join(f'"{c}"' for c in cols)
    insert = f'INSERT INTO "{table}" (rowid, {names}) VALUES ({", ".join("?" * (len(cols) + 1))})'
    batch: list[tuple[Any, ...]] = []
    for row in _read_table(src, table, names, report):
        batch.append(row)
        if len(batch) >= _CHUNK:
            _insert(dest, insert, batch, report)
            batch = []
    _insert(dest, insert, batch, report)
    return report


def _insert(dest: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]], report: TableSalvage) -> None:
    try:
        dest.executemany(sql, rows)
        report.copied += len(rows)
        return
    except sqlite3.DatabaseError:
        pass
    for row in rows:  # garbled rows that slipped past SQLite's checks break a constraint: keep the others
        try:
            dest.execute(sql, row)
            report.copied += 1
        except sqlite3.DatabaseError:
            report.refused += 1


def _drop_orphans(dest: sqlite3.Connection, reports: dict[str, TableSalvage]) -> None:
    for table, rowid, _parent, fk in dest.execute("PRAGMA foreign_key_check").fetchall():
        link = [r for r in dest.execute(f'PRAGMA foreign_key_list("{table}")') if r[0] == fk]
        if link and link[0][6] == "SET NULL":
            dest.execute(f'UPDATE "{table}" SET "{link[0][3]}" = NULL WHERE rowid = ?', (rowid,))
        else:
            dest.execute(f'DELETE FROM "{table}" WHERE rowid = ?', (rowid,))
        reports[table].orphans += 1


def salvage(src: str | Path, dest: str | Path) -> SalvageReport:
    """Copy every readable row of the project ``src`` into the new project ``dest``; ``src`` is never written.

    Returns what was copied and lost, table by table, and the new file's own check. Raises
    :class:`~micview.core.errors.ProjectError` when ``dest`` exists or nothing at all can be read.
    """
    src, dest = Path(src), Path(dest)
    try:
        version = read_header(src).user_version
    except ProjectDamagedError:
        version = SCHEMA_VERSION  # a damaged header: try the tables anyway
    if version > SCHEMA_VERSION:
        raise ProjectVersionError(f"{src} was saved by a newer micview; salvage it with that micview.")
    source = connect_ro(src, 30.0, prefer_immutable=True)
    try:
        try:
            tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise ProjectError(
                f"{src}: nothing can be salvaged, the list of tables itself is unreadable ({exc}). "
                f"Restore a backup instead: micview backups {src}"
            ) from exc
        with Project.create(dest) as project:
            reports = _copy_all(source, project, tables)
            project.set_meta("salvaged_from", str(src.absolute()))
            project.set_meta("salvaged_at", utc_now())
    finally:
        source.close()
    report = SalvageReport(src, project.path, list(reports.values()))
    report.health = check_project(project.path)
    log.info("%s: salvaged into %s at %s", src, project.path, datetime.now(UTC).isoformat(timespec="seconds"))
    return report


def _copy_all(source: sqlite3.Connection, project: Project, tables: set[str]) -> dict[str, TableSalvage]:
    con = project.con
    order = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")]
    created = dict(con.execute("SELECT key, value FROM meta").fetchall())
    con.execute("PRAGMA foreign_keys=OFF")  # parents may come back after children; checked below
    reports: dict[str, TableSalvage] = {}
    try:
        with project.transaction():
            con.execute("DELETE FROM meta")
            for table in order:  # a table the source lacks is newer than its format: nothing to copy
                reports[table] = _copy_table(source, con, table) if table in tables else TableSalvage(table)
            for key, value in created.items():
                con.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
            _drop_orphans(con, reports)
    finally:
        con.execute("PRAGMA foreign_keys=ON")
    return reports
