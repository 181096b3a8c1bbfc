"""Embedding vectors, keyed by (model id, image content hash), stored as compact binary rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from micview.core.store.project import Project

_DTYPES: dict[str, np.dtype[np.floating]] = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}


class Embeddings:
    """Why content hashes: a file moved, renamed or copied keeps its vector; a changed file gets a new one."""

    def __init__(self, project: Project) -> None:
        self._p = project

    def put(
        self,
        model_id: str,
        content_hashes: Sequence[str],
        vectors: np.ndarray,
        *,
        run_id: int | None = None,
        dtype: str = "float16",
    ) -> None:
        """Store one row per hash (replacing an older vector for the same model and content)."""
        if vectors.ndim != 2 or len(vectors) != len(content_hashes):
            raise ValueError(f"expected {len(content_hashes)} vectors, got array of shape {vectors.shape}")
        arr = np.ascontiguousarray(vectors, dtype=_DTYPES[dtype])
        dim = arr.shape[1]
        rows = [(model_id, h, dim, dtype, arr[i].tobytes(), run_id) for i, h in enumerate(content_hashes)]
        with self._p.transaction() as con:
            con.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?, ?)", rows)

    def matrix(self, model_id: str) -> tuple[list[str], np.ndarray]:
        """All vectors of ``model_id`` as (hashes, float32 matrix of shape (n, dim))."""
        rows = self._p.con.execute(
            "SELECT content_hash, dtype, vector FROM embeddings WHERE model_id = ? ORDER BY rowid", (model_id,)
        ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), np.float32)
        dtype = _DTYPES[rows[0][1]]
        if any(r[1] != rows[0][1] for r in rows):
            vecs = [np.frombuffer(r[2], _DTYPES[r[1]]).astype(np.float32) for r in rows]
            return [r[0] for r in rows], np.stack(vecs)
        flat = np.frombuffer(b"".join(r[2] for r in rows), dtype)
        return [r[0] for r in rows], flat.reshape(len(rows), -1).astype(np.float32)

    def for_images(self, model_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(image ids, float32 matrix) for every 'ok' image of the project that has a vector for ``model_id``."""
        hashes, mat = self.matrix(model_id)
        index = {h: i for i, h in enumerate(hashes)}
        pairs = [
            (image_id, index[h])
            for image_id, h in self._p.con.execute(
                "SELECT id, content_hash FROM images WHERE status = 'ok' ORDER BY id"
            )
            if h in index
        ]
        if not pairs:
            return np.zeros(0, np.int64), np.zeros((0, mat.shape[1] if mat.size else 0), np.float32)
        ids, rows = zip(*pairs, strict=True)
        return np.asarray(ids, np.int64), mat[list(rows)]

    def missing(self, model_id: str, content_hashes: Sequence[str]) -> list[str]:
        """The hashes among ``content_hashes`` that have no vector for ``model_id`` yet (order kept)."""
        have = {
            r[0] for r in self._p.con.execute("SELECT content_hash FROM embeddings WHERE model_id = ?", (model_id,))
        }
        return [h for h in content_hashes if h not in have]

    def models(self) -> list[tuple[str, int, int]]:
        """(model id, number of vectors, dimension) for every model with stored vectors."""
        sql = "SELECT model_id, count(*), max(dim) FROM embeddings GROUP BY model_id ORDER BY model_id"
        return [(r[0], int(r[1]), int(r[2])) for r in self._p.con.execute(sql)]

    def delete_model(self, model_id: str) -> None:
        with self._p.transaction() as con:
            con.execute("DELETE FROM embeddings WHERE model_id = ?", (model_id,))
