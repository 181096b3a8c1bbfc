"""The neighbour graph of a project's vectors: exact when small, faiss IVF candidates when large.

Why IVF for the graph when search uses an 8-bit flat scan (:mod:`micview.ml.ann`): search asks one query
at a time, the graph asks ``n`` queries at once. A flat scan answers ``n`` queries in ``n² · d`` work — the
exact graph costs about as much — whereas an inverted file (k-means cells, ``nprobe`` cells scanned per
query) does ``n · (cells + nprobe · n / cells) · d``: at 100k × 512, ~40× less. Recall is measured against
the exact graph in ``scripts/bench_quality.py``; the similarities are then recomputed exactly
(:func:`micview.core.quality.knn.index_graph`). faiss-cpu is already micview's approximate-search library.
"""

from __future__ import annotations

import math

import numpy as np

from micview.core.quality.knn import EXACT_BELOW, BatchCandidates, Neighbours, index_graph
from micview.core.search import VectorIndex

NPROBE = 8
TRAIN_PER_CELL = 10
KMEANS_ITERATIONS = 10


class IvfCandidates:
    """faiss ``IndexIVFFlat`` (inner product) over unit rows with image ids; answers batches of queries."""

    def __init__(self, ids: np.ndarray, unit: np.ndarray, *, nprobe: int = NPROBE, seed: int = 0) -> None:
        import faiss

        n, d = unit.shape
        cells = max(1, min(n // TRAIN_PER_CELL, int(4 * math.sqrt(n))))
        quantizer = faiss.IndexFlatIP(d)
        self.index = faiss.IndexIVFFlat(quantizer, d, cells, faiss.METRIC_INNER_PRODUCT)
        self.index.cp.min_points_per_centroid = 1  # a small training sample is enough for candidates
        self.index.cp.seed = seed
        self.index.cp.niter = KMEANS_ITERATIONS  # cells only route candidates: a rough k-means is enough
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(n, min(n, TRAIN_PER_CELL * cells), replace=False))
        self.index.train(np.ascontiguousarray(unit[sample], np.float32))
        self.index.add_with_ids(np.ascontiguousarray(unit, np.float32), np.asarray(ids, np.int64))
        self.index.nprobe = min(nprobe, cells)
        self.cells = cells

    def batch_candidates(self, queries: np.ndarray, n: int) -> np.ndarray:
        _, found = self.index.search(np.ascontiguousarray(queries, np.float32), n)
        return np.asarray(found, np.int64)


def neighbour_graph(index: VectorIndex, k: int, *, exact_below: int = EXACT_BELOW) -> Neighbours:
    """``k`` nearest neighbours of every row of ``index`` (see the module docstring)."""
    own = getattr(index, "approximate", None)
    if len(index) <= exact_below or isinstance(own, BatchCandidates):
        return index_graph(index, k, exact_below=exact_below)
    source = IvfCandidates(index.ids, index.matrix)
    graph = index_graph(index, k, candidates=source, exact_below=exact_below)
    return Neighbours(graph.rows, graph.sims, f"faiss IVF{source.cells} nprobe {source.index.nprobe} + exact re-rank")
