"""The neighbour graph: exact top-k without an N × N matrix, candidate re-ranking, an index's own batches."""

from __future__ import annotations

import numpy as np
import pytest

from micview.core.quality.knn import CHUNK, exact_graph, index_graph, neighbours_of, rerank, top_k_rows
from micview.core.search import VectorIndex, normalise


def brute(unit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    s = unit @ unit.T
    np.fill_diagonal(s, -np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(len(s)), s.shape), -s), axis=1)[:, :k]
    return order, np.take_along_axis(s, order, 1)


@pytest.mark.parametrize("n", [7, 4 * CHUNK + 3, 3000])
def test_top_k_rows_is_exact_with_ties(n: int) -> None:
    rng = np.random.default_rng(n)
    scores = rng.integers(0, 40, size=(50, n)).astype(np.float32)  # many ties: resolved by column
    cols, vals = top_k_rows(scores.copy(), 6)
    want = np.lexsort((np.broadcast_to(np.arange(n), scores.shape), -scores), axis=1)[:, :6]
    assert np.array_equal(cols, want)
    assert np.array_equal(vals, np.take_along_axis(scores, want, 1))


def test_exact_graph_matches_brute_force_and_keeps_identical_copies() -> None:
    rng = np.random.default_rng(1)
    unit = normalise(rng.normal(size=(700, 16)))
    unit[5] = unit[9]  # an identical copy is its twin's nearest neighbour, never itself
    g = exact_graph(unit, 4, block=128)
    rows, sims = brute(unit, 4)
    assert np.array_equal(g.rows, rows) and np.allclose(g.sims, sims, atol=1e-6)
    assert g.rows[5, 0] == 9 and g.rows[9, 0] == 5 and g.distances()[5, 0] == pytest.approx(0, abs=1e-6)


def test_tiny_sets_pad_with_minus_one() -> None:
    g = exact_graph(normalise(np.eye(3, 4)), 5)
    assert (g.rows[:, 2:] == -1).all() and np.isinf(g.distances()[:, 2:]).all()
    assert exact_graph(normalise(np.ones((1, 4))), 3).rows.tolist() == [[-1, -1, -1]]


def test_rerank_drops_self_repeats_and_missing_and_orders_exactly() -> None:
    unit = normalise(np.array([[1, 0], [0.9, 0.1], [0, 1], [0.5, 0.5]], np.float32))
    cand = np.array([[0, 1, 1, -1, 3], [2, 2, 0, 1, -1], [3, 3, 3, 0, 2], [1, 2, 0, 3, -1]])
    g = rerank(unit, cand, 2, "test")
    # by hand: 0 ~ 1 (0.994) > 3 (0.707); 1 ~ 0 > 2; 2 ~ 3 (0.707) > 0 (0); 3 ~ 1 (0.781), then 0 and 2 tie
    # at 0.707 and the lower row wins
    assert g.rows.tolist() == [[1, 3], [0, 2], [3, 0], [1, 0]]
    assert g.sims[0].tolist() == pytest.approx([0.9 / np.hypot(0.9, 0.1), np.sqrt(0.5)], abs=1e-6)


class Candidates:
    """A stand-in approximate index: the true neighbours among noise, as image ids, some missing."""

    def __init__(self, ids: np.ndarray, unit: np.ndarray) -> None:
        self.ids, self.unit = ids, unit

    def batch_candidates(self, queries: np.ndarray, n: int) -> np.ndarray:
        s = queries @ self.unit.T
        best = np.argsort(-s, axis=1)[:, : n - 2]
        noise = np.full((len(queries), 2), 10**9)  # ids it does not know: ignored
        return np.concatenate([self.ids[best][:, ::-1], noise], axis=1)


def test_index_graph_uses_a_batch_candidate_source_above_the_exact_size() -> None:
    rng = np.random.default_rng(2)
    ids = rng.permutation(np.arange(100, 100 + 600))
    vectors = rng.normal(size=(600, 12)).astype(np.float32)
    index = VectorIndex(ids, vectors)
    exact = index_graph(index, 5)
    via = index_graph(index, 5, candidates=Candidates(ids, index.matrix), exact_below=100)
    assert exact.method == "exact" and "re-rank" in via.method
    assert np.array_equal(via.rows, exact.rows) and np.allclose(via.sims, exact.sims, atol=1e-6)
    index.approximate = Candidates(ids, index.matrix)  # type: ignore[assignment]
    own = index_graph(index, 5, exact_below=100)
    assert own.method.startswith("approximate") and np.array_equal(own.rows, exact.rows)


def test_neighbours_of_sampled_rows_match_the_full_graph() -> None:
    rng = np.random.default_rng(3)
    unit = normalise(rng.normal(size=(900, 8)))
    full = exact_graph(unit, 4)
    rows = np.array([3, 500, 899])
    part = neighbours_of(rows, unit, 4, block=2)
    assert np.array_equal(part.rows, full.rows[rows]) and np.allclose(part.sims, full.sims[rows])
