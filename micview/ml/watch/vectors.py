"""Stored vectors of a few images or contents, without loading every vector of the model.

:meth:`~micview.core.store.embeddings.Embeddings.for_images` reads all of a model's vectors (2.5 GB for a
million 1280-d images); the live pipeline needs those of the labelled images and of one new image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from micview.core.store import Project

_DTYPES = {"float16": np.float16, "float32": np.float32}
_CHUNK = 500  # SQLite's variable limit is 32 766; stay far below it


def vectors_of_hashes(project: Project, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """``{content hash: float32 vector}`` for the hashes that have a ``model_id`` vector."""
    out: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), _CHUNK):
        part = unique[start : start + _CHUNK]
        sql = (
            "SELECT content_hash, dtype, vector FROM embeddings WHERE model_id = ? "
            f"AND content_hash IN ({','.join('?' * len(part))})"
        )
        for h, dtype, blob in project.con.execute(sql, (model_id, *part)):
            out[h] = np.frombuffer(blob, _DTYPES[dtype]).astype(np.float32)
    return out


def vectors_of_images(
    project: Project, model_id: str, image_ids: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, (n, d) float32)`` for the given readable images that have a vector (order kept)."""
    wanted = [int(i) for i in image_ids]
    hashes: dict[int, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start : start + _CHUNK]
        sql = f"SELECT id, content_hash FROM images WHERE status = 'ok' AND id IN ({','.join('?' * len(part))})"
        hashes.update({int(i): h for i, h in project.con.execute(sql, part) if h})
    vectors = vectors_of_hashes(project, model_id, list(hashes.values()))
    ids = [i for i in wanted if hashes.get(i) in vectors]
    if not ids:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return np.asarray(ids, np.int64), np.stack([vectors[hashes[i]] for i in ids])


def unit(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(np.asarray(x, np.float32))
    return np.asarray(x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12), np.float32)
