"""Image records and their thumbnails in the project file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from micview.core.store.paths import local_path, stored_path
from micview.core.store.project import utc_now

if TYPE_CHECKING:
    from micview.core.store.project import Project

# Typed instrument columns, in the order the CSV export writes them.
INSTRUMENT_COLUMNS = (
    "pixel_size_nm",
    "pixel_size_y_nm",
    "voltage_kv",
    "magnification",
    "hfw_um",
    "working_distance_mm",
    "detector",
    "instrument",
    "acquired_at",
)
FILE_COLUMNS = (
    "content_hash",
    "size_bytes",
    "mtime",
    "status",
    "error",
    "format",
    "width",
    "height",
    "frames",
    "channels",
    "dtype",
    "bit_depth",
    "mode",
)
_WRITABLE = (*FILE_COLUMNS, *INSTRUMENT_COLUMNS, "metadata_json")


@dataclass(slots=True)
class ImageRow:
    """One image as listed (everything but the raw metadata, which :meth:`Images.metadata` returns)."""

    id: int
    path: str
    name: str
    folder: str
    content_hash: str | None
    size_bytes: int | None
    mtime: float | None
    status: str
    error: str | None
    format: str | None
    width: int | None
    height: int | None
    frames: int | None
    channels: int | None
    dtype: str | None
    bit_depth: int | None
    mode: str | None
    pixel_size_nm: float | None
    pixel_size_y_nm: float | None
    voltage_kv: float | None
    magnification: float | None
    hfw_um: float | None
    working_distance_mm: float | None
    detector: str | None
    instrument: str | None
    acquired_at: str | None


_LIST_COLUMNS = ", ".join(f.name for f in fields(ImageRow))


@dataclass(slots=True)
class Thumbnail:
    width: int
    height: int
    format: str
    data: bytes


class Images:
    """Access to the ``images`` and ``thumbnails`` tables of a project."""

    def __init__(self, project: Project) -> None:
        self._p = project

    def all(self, *, status: str | None = None) -> list[ImageRow]:
        """Every image in insertion order; fast enough to list 100k images in well under a second."""
        sql = f"SELECT {_LIST_COLUMNS} FROM images"
        args: tuple[Any, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status,)
        rows = self._p.con.execute(sql + " ORDER BY id", args).fetchall()
        return [ImageRow(*r) for r in rows]

    def count(self, *, status: str | None = None) -> int:
        if status is None:
            return int(self._p.con.execute("SELECT count(*) FROM images").fetchone()[0])
        sql = "SELECT count(*) FROM images WHERE status = ?"
        return int(self._p.con.execute(sql, (status,)).fetchone()[0])

    def get(self, image_id: int) -> ImageRow:
        row = self._p.con.execute(f"SELECT {_LIST_COLUMNS} FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            raise KeyError(image_id)
        return ImageRow(*row)

    def by_path(self, path: str | Path) -> ImageRow | None:
        """The image of the file at ``path`` (a path on this computer, not a stored path)."""
        stored = stored_path(self._p, path)
        row = self._p.con.execute(f"SELECT {_LIST_COLUMNS} FROM images WHERE path = ?", (stored,)).fetchone()
        return ImageRow(*row) if row else None

    def ids_by_stored_path(self) -> dict[str, int]:
        return dict(self._p.con.execute("SELECT path, id FROM images"))

    def metadata(self, image_id: int) -> dict[str, Any]:
        row = self._p.con.execute("SELECT metadata_json FROM images WHERE id = ?", (image_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def abspath(self, row: ImageRow) -> Path:
        """The file of ``row`` as the operating system names it (stored paths escape undecodable bytes)."""
        return local_path(self._p, row.path)

    def duplicates(self) -> list[list[ImageRow]]:
        """Groups of images whose file content is byte-identical."""
        sql = (
            f"SELECT {_LIST_COLUMNS} FROM images WHERE content_hash IN (SELECT content_hash FROM images "
            "WHERE content_hash IS NOT NULL GROUP BY content_hash HAVING count(*) > 1) ORDER BY content_hash, id"
        )
        groups: dict[str, list[ImageRow]] = {}
        for r in self._p.con.execute(sql):
            row = ImageRow(*r)
            groups.setdefault(row.content_hash or "", []).append(row)
        return list(groups.values())

    # -- writing ---------------------------------------------------------------------------------------------
    def upsert(self, path: str | Path, values: dict[str, Any], thumbnail: Thumbnail | None = None) -> int:
        """Insert or update the image at ``path``; call inside :meth:`Project.transaction` for batches."""
        stored = stored_path(self._p, path)
        unknown = set(values) - set(_WRITABLE)
        if unknown:
            raise ValueError(f"unknown image columns: {sorted(unknown)}")
        now = utc_now()
        posix = PurePosixPath(stored)
        cols = list(values)
        with self._p.transaction() as con:
            row = con.execute("SELECT id FROM images WHERE path = ?", (stored,)).fetchone()
            if row is None:
                names = ["path", "name", "folder", "added_at", "updated_at", *cols]
                args = [stored, posix.name, posix.parent.as_posix(), now, now, *values.values()]
                sql = f"INSERT INTO images ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
                image_id = int(con.execute(sql, args).lastrowid or 0)
            else:
                image_id = int(row[0])
                sets = ", ".join(f"{c} = ?" for c in [*cols, "updated_at"])
                con.execute(f"UPDATE images SET {sets} WHERE id = ?", [*values.values(), now, image_id])
            if thumbnail is not None:
                con.execute(
                    "INSERT OR REPLACE INTO thumbnails VALUES (?, ?, ?, ?, ?)",
                    (image_id, thumbnail.width, thumbnail.height, thumbnail.format, thumbnail.data),
                )
            elif values.get("status") == "error":
                con.execute("DELETE FROM thumbnails WHERE image_id = ?", (image_id,))
        return image_id

    def move(self, image_id: int, path: str | Path) -> None:
        """Give an image a new file path (it was moved or renamed): labels, notes and history stay with it."""
        stored = stored_path(self._p, path)
        posix = PurePosixPath(stored)
        with self._p.transaction() as con:
            con.execute(
                "UPDATE images SET path = ?, name = ?, folder = ?, updated_at = ? WHERE id = ?",
                (stored, posix.name, posix.parent.as_posix(), utc_now(), image_id),
            )

    def set_status(self, image_ids: Iterable[int], status: str) -> None:
        now = utc_now()
        with self._p.transaction() as con:
            con.executemany(
                "UPDATE images SET status = ?, updated_at = ? WHERE id = ?", [(status, now, i) for i in image_ids]
            )

    def remove(self, image_ids: Sequence[int]) -> None:
        """Forget images (and their thumbnails, labels and notes). Embeddings stay: they are keyed by content."""
        with self._p.transaction() as con:
            con.executemany("DELETE FROM images WHERE id = ?", [(i,) for i in image_ids])

    # -- thumbnails ------------------------------------------------------------------------------------------
    def thumbnail(self, image_id: int) -> Thumbnail | None:
        row = self._p.con.execute(
            "SELECT width, height, format, data FROM thumbnails WHERE image_id = ?", (image_id,)
        ).fetchone()
        return Thumbnail(row[0], row[1], row[2], bytes(row[3])) if row else None

    def ids_without_thumbnail(self) -> list[int]:
        sql = "SELECT id FROM images WHERE status = 'ok' AND id NOT IN (SELECT image_id FROM thumbnails) ORDER BY id"
        return [r[0] for r in self._p.con.execute(sql)]
