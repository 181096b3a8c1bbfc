"""The k-nearest-neighbour graph of a set of unit vectors, without an N × N matrix.

Every data-quality score (near duplicates, uniqueness, outliers) starts from each image's few nearest
neighbours. Exactly, rows are scored in blocks (``block × n`` similarities at a time, in a reused buffer) and
the top ``k`` of each row is found without partitioning the whole row: the row is cut into chunks of
:data:`CHUNK` columns; the ``k``-th largest chunk maximum is a threshold that at least ``k`` entries reach and
every top-``k`` entry reaches, so only the entries at or above it are sorted. That is exact and several times
faster than ``np.argpartition`` over the row (~30 ns an entry on this machine).

The exact graph costs ``n² · d`` multiply-adds, fine to a few tens of thousands of rows. Above that a
:class:`BatchCandidates` source (an approximate index answering many queries at once; :mod:`micview.ml.quality`
builds one with faiss, or the project's own approximate index when it can batch) proposes ``k + extra``
candidates per row, which are **re-ranked exactly** here: every similarity returned is exact, only the recall
of the candidate stage is approximate (``scripts/bench_quality.py`` measures it against the exact graph).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from micview.core.search import VectorIndex, normalise

CHUNK = 128
BLOCK_ROWS = 1024
EXACT_BELOW = 20_000  # rows; up to here the exact graph takes seconds, above it a candidate source is used
EXTRA_CANDIDATES = 8


@runtime_checkable
class BatchCandidates(Protocol):
    """An approximate index that proposes ``n`` candidate ids for each of many unit-vector queries."""

    def batch_candidates(self, queries: np.ndarray, n: int) -> np.ndarray:
        """``(m, n)`` int64 ids, −1 where it has fewer; in any order (they are re-ranked exactly)."""
        ...


@dataclass(frozen=True, slots=True)
class Neighbours:
    """Row ``i``'s ``k`` nearest other rows, most similar first.

    ``rows`` are row indices (not image ids; −1 where a set has fewer than ``k + 1`` rows) and ``sims`` their
    exact cosine similarities (−inf where ``rows`` is −1). ``method`` says how the candidates were found.
    """

    rows: np.ndarray
    sims: np.ndarray
    method: str

    @property
    def k(self) -> int:
        return int(self.rows.shape[1])

    def distances(self) -> np.ndarray:
        """Cosine distances ``1 − sim`` (inf where there is no neighbour), float32."""
        out = (1.0 - self.sims).astype(np.float32)
        out[self.rows < 0] = np.inf
        return out


def row_blocks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for s in range(0, n, size):
        yield s, min(n, s + size)


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest entries of each row, largest first; ties by column."""
    b, n = scores.shape
    k = min(k, n)
    if k <= 0:
        return np.zeros((b, 0), np.int64), np.zeros((b, 0), np.float32)
    if n < 4 * CHUNK or -(-n // CHUNK) <= 2 * k:
        threshold = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
    else:  # the k-th largest chunk maximum: reached by at least k entries, and by every top-k entry
        full = (n // CHUNK) * CHUNK
        maxima = scores[:, :full].reshape(b, -1, CHUNK).max(axis=2)
        if full < n:
            maxima = np.concatenate([maxima, scores[:, full:].max(axis=1, keepdims=True)], axis=1)
        threshold = -np.partition(-maxima, k - 1, axis=1)[:, k - 1]
    rows, cols = np.nonzero(scores >= threshold[:, None])
    vals = scores[rows, cols]
    order = np.lexsort((cols, -vals, rows))  # by row, then best first, ties by column
    rows, cols, vals = rows[order], cols[order], vals[order]
    take = (np.searchsorted(rows, np.arange(b))[:, None] + np.arange(k)[None, :]).ravel()
    return cols[take].reshape(b, k).astype(np.int64), vals[take].reshape(b, k)


def exact_graph(unit: np.ndarray, k: int, *, block: int = BLOCK_ROWS) -> Neighbours:
    """Top-``k`` other rows of every row of ``unit`` (unit-length rows) by cosine, exactly."""
    n = len(unit)
    rows = np.full((n, k), -1, np.int64)
    sims = np.full((n, k), -np.inf, np.float32)
    kk = max(0, min(k, n - 1))
    if kk == 0:
        return Neighbours(rows, sims, "exact")
    buf = np.empty((min(block, n), n), np.float32)
    for s, e in row_blocks(n, block):
        out = buf[: e - s]
        np.matmul(unit[s:e], unit.T, out=out)
        out[np.arange(e - s), np.arange(s, e)] = -np.inf  # self, by position: identical copies stay neighbours
        cols, vals = top_k_rows(out, kk)
        rows[s:e, :kk], sims[s:e, :kk] = cols, vals
    return Neighbours(rows, sims, "exact")


def neighbours_of(rows: np.ndarray, unit: np.ndarray, k: int, *, block: int = BLOCK_ROWS) -> Neighbours:
    """Exact top-``k`` other rows of ``unit`` for the query ``rows`` only (a sample of a large set)."""
    rows = np.asarray(rows, np.int64)
    out_rows = np.full((len(rows), k), -1, np.int64)
    out_sims = np.full((len(rows), k), -np.inf, np.float32)
    kk = max(0, min(k, len(unit) - 1))
    if kk == 0 or len(rows) == 0:
        return Neighbours(out_rows, out_sims, "exact, sampled queries")
    buf = np.empty((min(block, len(rows)), len(unit)), np.float32)
    for s, e in row_blocks(len(rows), block):
        out = buf[: e - s]
        np.matmul(unit[rows[s:e]], unit.T, out=out)
        out[np.arange(e - s), rows[s:e]] = -np.inf
        out_rows[s:e, :kk], out_sims[s:e, :kk] = top_k_rows(out, kk)
    return Neighbours(out_rows, out_sims, "exact, sampled queries")


def rerank(unit: np.ndarray, candidates: np.ndarray, k: int, method: str) -> Neighbours:
    """Exact similarities of each row with its candidate rows (−1 = none; itself dropped), best ``k`` first."""
    n = len(unit)
    rows = np.full((n, k), -1, np.int64)
    sims = np.full((n, k), -np.inf, np.float32)
    for s, e in row_blocks(n, 2048):
        cand = candidates[s:e]
        valid = (cand >= 0) & (cand != np.arange(s, e)[:, None])
        cand = np.where(valid, cand, -1)
        sim = np.einsum("bd,bcd->bc", unit[s:e], unit[np.maximum(cand, 0)])
        sim[~valid] = -np.inf
        order = np.lexsort((-sim, cand), axis=1)  # by candidate: a candidate proposed twice sits side by side
        cand, sim = np.take_along_axis(cand, order, 1), np.take_along_axis(sim, order, 1)
        sim[:, 1:][cand[:, 1:] == cand[:, :-1]] = -np.inf
        order = np.argsort(-sim, axis=1, kind="stable")[:, :k]
        got, got_sims = np.take_along_axis(cand, order, 1), np.take_along_axis(sim, order, 1)
        rows[s:e, : got.shape[1]], sims[s:e, : got.shape[1]] = got, got_sims
    rows[~np.isfinite(sims)] = -1
    return Neighbours(rows, sims, method)


def index_graph(
    index: VectorIndex,
    k: int,
    *,
    candidates: BatchCandidates | None = None,
    exact_below: int = EXACT_BELOW,
    extra: int = EXTRA_CANDIDATES,
) -> Neighbours:
    """The ``k``-NN graph of ``index``'s rows (row numbers as in ``index.ids``).

    Exact up to ``exact_below`` rows; above, candidates come from ``candidates``, else from the index's own
    approximate index when it can batch (``index.approximate``), else the exact graph is computed anyway.
    """
    unit = index.matrix if index.matrix.dtype == np.float32 else normalise(index.matrix)  # rows are unit already
    own = getattr(index, "approximate", None)
    source = candidates or (own if isinstance(own, BatchCandidates) else None)
    if source is None or len(index) <= exact_below:
        return exact_graph(unit, k)
    ids = np.concatenate([source.batch_candidates(unit[s:e], k + extra + 1) for s, e in row_blocks(len(unit), 8192)])
    name = "approximate candidates" if source is own else type(source).__name__
    return rerank(unit, _rows_of(index.ids, ids), k, f"{name} + exact re-rank")


def _rows_of(ids: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Row numbers of the image ids in ``found`` (−1 for −1 or ids not in ``ids``)."""
    order = np.argsort(ids, kind="stable")
    pos = np.clip(np.searchsorted(ids[order], found), 0, len(ids) - 1)
    rows = order[pos]
    return np.where((found >= 0) & (ids[rows] == found), rows, -1).astype(np.int64)
