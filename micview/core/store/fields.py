"""Metadata columns a user brought in (from a CSV), plus free notes and tags per image."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from micview.core.store.project import utc_now

if TYPE_CHECKING:
    from micview.core.store.project import Project


class Fields:
    def __init__(self, project: Project) -> None:
        self._p = project

    def set_many(self, values: Mapping[int, Mapping[str, str | None]]) -> None:
        """``{image_id: {column: value}}``; replaces the same column of the same image."""
        rows = [(i, k, v) for i, cols in values.items() for k, v in cols.items()]
        with self._p.transaction() as con:
            con.executemany("INSERT OR REPLACE INTO image_fields VALUES (?, ?, ?)", rows)

    def names(self) -> list[str]:
        sql = "SELECT name FROM image_fields GROUP BY name ORDER BY min(rowid)"
        return [r[0] for r in self._p.con.execute(sql)]

    def column(self, name: str) -> dict[int, str | None]:
        return dict(self._p.con.execute("SELECT image_id, value FROM image_fields WHERE name = ?", (name,)))

    def of_image(self, image_id: int) -> dict[str, str | None]:
        """One image's imported columns (``description``, ``contributor``…), in the order they were imported."""
        sql = "SELECT name, value FROM image_fields WHERE image_id = ? ORDER BY rowid"
        return dict(self._p.con.execute(sql, (image_id,)).fetchall())

    def all(self) -> dict[int, dict[str, str | None]]:
        out: dict[int, dict[str, str | None]] = {}
        for image_id, name, value in self._p.con.execute("SELECT image_id, name, value FROM image_fields"):
            out.setdefault(image_id, {})[name] = value
        return out

    # -- notes and tags ------------------------------------------------------------------------------------
    def set_note(self, image_id: int, text: str) -> None:
        with self._p.transaction() as con:
            con.execute("INSERT OR REPLACE INTO notes VALUES (?, ?, ?)", (image_id, text, utc_now()))

    def note(self, image_id: int) -> str:
        row = self._p.con.execute("SELECT text FROM notes WHERE image_id = ?", (image_id,)).fetchone()
        return str(row[0]) if row else ""

    def add_tags(self, image_ids: Iterable[int], tag: str) -> None:
        with self._p.transaction() as con:
            con.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)", [(i, tag) for i in image_ids])

    def remove_tags(self, image_ids: Iterable[int], tag: str) -> None:
        with self._p.transaction() as con:
            con.executemany("DELETE FROM tags WHERE image_id = ? AND tag = ?", [(i, tag) for i in image_ids])

    def tags(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for image_id, tag in self._p.con.execute("SELECT image_id, tag FROM tags ORDER BY tag"):
            out.setdefault(image_id, []).append(tag)
        return out
