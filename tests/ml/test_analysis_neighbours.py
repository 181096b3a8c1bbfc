"""The quality run's neighbour graph above the exact size: faiss IVF candidates, re-ranked exactly."""

from __future__ import annotations

import numpy as np

from micview.core.quality.knn import exact_graph
from micview.core.search import VectorIndex, normalise
from micview.ml.quality.neighbours import neighbour_graph


def test_ivf_candidates_give_the_exact_neighbours_with_exact_similarities() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 24))
    X = normalise(centres[rng.integers(0, 30, 3000)] + 0.3 * rng.normal(size=(3000, 24)))
    ids = np.arange(3000) * 7 + 5  # image ids are not row numbers
    exact = exact_graph(X, 8)
    approx = neighbour_graph(VectorIndex(ids, X), 8, exact_below=500)
    assert approx.method.startswith("faiss IVF")
    recall = np.mean([len(set(a) & set(e)) / 8 for a, e in zip(approx.rows, exact.rows, strict=True)])
    assert recall >= 0.97
    found = approx.rows >= 0
    assert np.allclose(approx.sims[found], np.einsum("nd,nkd->nk", X, X[np.maximum(approx.rows, 0)])[found], atol=1e-5)
    assert (approx.rows != np.arange(3000)[:, None]).all()  # never itself
