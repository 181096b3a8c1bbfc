"""Exact nearest-neighbour search over embedding vectors (numpy only; the query vector comes from elsewhere).

Vectors are L2-normalised once, so cosine similarity is one matrix–vector product. The product runs in
chunks of rows: a float16 matrix (half the memory: 1M × 512 is 1 GB instead of 2 GB) is converted chunk by
chunk into a small float32 buffer for BLAS, never as a whole. numpy's float16 conversion is scalar, so the
float16 option trades ~8× slower search for half the memory (scripts/bench_search.py: at 1M × 512 about
0.25 s float32 vs 2 s float16 on 2 cores); float32 is the default. Top-k uses ``np.argpartition`` (linear time)
on the score vector and sorts only the k winners.

Filters (a label, a folder, a prediction ...) are given as the set of allowed image ids or a boolean mask
over the index rows; rows outside score ``-inf``. When few rows are allowed only those rows are scored.

Large indexes take an optional :class:`CandidateSource` (an approximate index, :mod:`micview.ml.ann`) that
proposes a few dozen candidate ids; those are then **re-ranked exactly** here with the stored vectors, so the
scores returned are always exact cosines and only the recall depends on the approximate stage. The index can
grow and shrink in place (:meth:`VectorIndex.add`, :meth:`VectorIndex.remove`) so that newly embedded images
do not force re-reading every vector.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

import numpy as np

CHUNK_ROWS = 8_192
_SUBSET_BELOW = 0.2  # score only the allowed rows when they are fewer than this fraction
EXACT_BELOW_ROWS = 20_000  # a filter leaving fewer rows is scored exactly (a few ms), even with an approximate index
MIN_CANDIDATES = 64  # rows re-ranked exactly per approximate query (at least; 4 x k when k is larger)


class CandidateSource(Protocol):
    """An approximate index over the same ids, kept in step by :meth:`VectorIndex.add` / ``remove``."""

    def candidates(self, query: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` ids it thinks are most similar to the unit vector ``query`` (fewer when it holds fewer)."""
        ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add (or replace) unit-length rows."""
        ...

    def remove(self, ids: np.ndarray) -> None: ...


@dataclass(frozen=True, slots=True)
class Hits:
    """Search results, best first: image ids and cosine similarities (float32, in [-1, 1])."""

    ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def pairs(self) -> list[tuple[int, float]]:
        return [(int(i), float(s)) for i, s in zip(self.ids, self.scores, strict=True)]


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32."""
    v = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    out: np.ndarray = v / np.maximum(norms, np.float32(1e-12))
    return out


class VectorIndex:
    """An in-memory, exact cosine-similarity index of one model's vectors.

    Parameters
    ----------
    ids
        Image id of each row, shape ``(n,)``.
    vectors
        ``(n, d)`` vectors in any float dtype; normalised here.
    dtype
        Storage: ``float32`` or ``float16`` (half the memory, scores within ~1e-3).
    """

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, *, dtype: str = "float32") -> None:
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        self.ids = np.asarray(ids, np.int64)
        self.matrix = self._normalised(vectors, np.dtype(dtype))
        self._row = {int(i): r for r, i in enumerate(self.ids)}
        self.approximate: CandidateSource | None = None  # set by micview.ml.ann for large indexes

    @staticmethod
    def _normalised(vectors: np.ndarray, dtype: np.dtype) -> np.ndarray:
        out = np.empty(vectors.shape if vectors.ndim == 2 else (0, 0), dtype)
        for s in range(0, len(vectors), CHUNK_ROWS):
            out[s : s + CHUNK_ROWS] = normalise(vectors[s : s + CHUNK_ROWS])
        return out

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add rows (normalised here); an id already present gets its new vector."""
        ids = np.asarray(ids, np.int64)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(ids) == 0:
            return
        if len(self) and vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have {vectors.shape[1]} dimensions, the index {self.dim}")
        self.remove(ids[np.fromiter((int(i) in self._row for i in ids), np.bool_, len(ids))])
        new = self._normalised(vectors, self.matrix.dtype)
        start = len(self.ids)
        self.ids = np.concatenate([self.ids, ids])
        self.matrix = np.concatenate([self.matrix, new]) if start else new
        self._row.update((int(i), start + r) for r, i in enumerate(ids))
        if self.approximate is not None:
            self.approximate.add(ids, new.astype(np.float32))

    def remove(self, ids: Collection[int] | np.ndarray) -> None:
        """Drop the rows of ``ids`` (ids not in the index are ignored)."""
        gone = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, np.int64)
        drop = np.isin(self.ids, gone)
        if not drop.any():
            return
        self.ids, self.matrix = self.ids[~drop], self.matrix[~drop]
        self._row = {int(i): r for r, i in enumerate(self.ids)}
        if self.approximate is not None:
            self.approximate.remove(gone)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1]) if self.matrix.ndim == 2 else 0

    def vector(self, image_id: int) -> np.ndarray:
        """The stored (normalised, float32) vector of ``image_id``; ``KeyError`` when not indexed."""
        row: np.ndarray = self.matrix[self._row[int(image_id)]].astype(np.float32)
        return row

    def __contains__(self, image_id: object) -> bool:
        return image_id in self._row

    def scores(self, query: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Cosine similarity of ``query`` (normalised here) with every row, or only with ``rows``."""
        q = normalise(np.asarray(query, np.float32).reshape(-1))
        if len(q) != self.dim:
            raise ValueError(f"query has {len(q)} dimensions, the index {self.dim}")
        mat = self.matrix if rows is None else self.matrix[rows]
        out = np.empty(len(mat), np.float32)
        buf = None if mat.dtype == np.float32 else np.empty((min(CHUNK_ROWS, len(mat)), self.dim), np.float32)
        for s in range(0, len(mat), CHUNK_ROWS):
            chunk = mat[s : s + CHUNK_ROWS]
            if buf is not None:  # float16 → float32 into a reused, cache-sized buffer; BLAS has no f16 matvec
                chunk = buf[: len(chunk)]
                np.copyto(chunk, mat[s : s + CHUNK_ROWS])
            np.matmul(chunk, q, out=out[s : s + CHUNK_ROWS])
        return out

    def mask_for(self, allowed_ids: Collection[int]) -> np.ndarray:
        """Boolean row mask of the ids in ``allowed_ids``."""
        return np.isin(self.ids, np.fromiter(allowed_ids, np.int64, len(allowed_ids)))

    def search(
        self,
        query: np.ndarray,
        k: int = 10,
        *,
        allowed: Collection[int] | np.ndarray | None = None,
        exclude: Collection[int] = (),
    ) -> Hits:
        """The ``k`` rows most similar to ``query``, best first.

        ``allowed`` is a boolean mask over rows or a collection of image ids; ``exclude`` removes ids
        (e.g. the query image itself).
        """
        mask = self._mask(allowed, exclude)
        n_allowed = len(self) if mask is None else int(mask.sum())
        if self.approximate is not None and k > 0 and n_allowed >= EXACT_BELOW_ROWS:
            hits = self._approximate_search(query, k, mask)
            if hits is not None:
                return hits
        if mask is not None and n_allowed < _SUBSET_BELOW * len(self):
            rows = np.flatnonzero(mask)
            return _top_k(self.ids[rows], self.scores(query, rows), k)
        scores = self.scores(query)
        if mask is not None:
            scores[~mask] = -np.inf
        return _top_k(self.ids, scores, min(k, len(scores) if mask is None else int(mask.sum())))

    def _approximate_search(self, query: np.ndarray, k: int, mask: np.ndarray | None) -> Hits | None:
        """Candidates from the approximate index, re-ranked exactly; ``None`` → the caller searches exactly.

        With a filter, the candidate pool is widened by the allowed fraction so that about the same number
        of allowed rows is re-ranked; when the pool would be a sizeable part of the index, exact is cheaper.
        """
        assert self.approximate is not None
        wanted = max(MIN_CANDIDATES, 4 * k)
        if mask is not None:
            wanted = int(wanted * len(self) / max(1, int(mask.sum())))
        if wanted * 20 > len(self):
            return None
        q = normalise(np.asarray(query, np.float32).reshape(-1))
        found = self.approximate.candidates(q, wanted)
        rows = np.fromiter((self._row.get(int(i), -1) for i in found), np.int64, len(found))
        rows = np.unique(rows[rows >= 0])
        if mask is not None:
            rows = rows[mask[rows]]
        if len(rows) < k:
            return None
        return _top_k(self.ids[rows], self.scores(q, rows), k)

    def _mask(self, allowed: Collection[int] | np.ndarray | None, exclude: Collection[int]) -> np.ndarray | None:
        if allowed is None:
            mask = None
        elif isinstance(allowed, np.ndarray) and allowed.dtype == np.bool_:
            if allowed.shape != self.ids.shape:
                raise ValueError(f"mask of shape {allowed.shape} for an index of {len(self)} rows")
            mask = allowed.copy()
        else:
            mask = self.mask_for(allowed)
        for i in exclude:
            if int(i) in self._row:
                mask = np.ones(len(self), np.bool_) if mask is None else mask
                mask[self._row[int(i)]] = False
        return mask


def _top_k(ids: np.ndarray, scores: np.ndarray, k: int) -> Hits:
    k = max(0, min(k, len(scores)))
    if k == 0:
        return Hits(np.zeros(0, np.int64), np.zeros(0, np.float32))
    if k < len(scores):
        kth = scores[np.argpartition(-scores, k - 1)[k - 1]]
        cand = np.flatnonzero(scores >= kth)  # every row tied with the k-th, so ties resolve by id, not luck
    else:
        cand = np.arange(len(scores))
    order = cand[np.lexsort((ids[cand], -scores[cand]))][:k]
    return Hits(ids[order], scores[order])
