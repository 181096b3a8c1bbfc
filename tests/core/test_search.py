"""Exact vector search: agrees with brute force, filters, float16 storage, chunking, ties."""

from __future__ import annotations

import numpy as np
import pytest

from micview.core import search
from micview.core.search import VectorIndex, normalise


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return np.arange(100, 1100, dtype=np.int64), rng.normal(size=(1000, 64)).astype(np.float32)


def brute(ids: np.ndarray, vecs: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    s = normalise(vecs) @ normalise(q[None])[0]
    return ids[np.argsort(-s, kind="stable")[:k]]


def test_top_k_matches_brute_force(data: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vecs = data
    q = np.random.default_rng(2).normal(size=64)
    hits = VectorIndex(ids, vecs).search(q, k=15)
    assert hits.ids.tolist() == brute(ids, vecs, q, 15).tolist()
    assert np.all(np.diff(hits.scores) <= 0)
    assert np.allclose(hits.scores, normalise(vecs)[hits.ids - 100] @ normalise(q[None])[0], atol=1e-5)


def test_rows_are_unit_length_and_query_scale_free(data: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vecs = data
    index = VectorIndex(ids, vecs * 7.0)
    assert np.allclose(np.linalg.norm(index.matrix, axis=1), 1, atol=1e-5)
    q = vecs[3]
    assert index.search(q, 1).ids[0] == ids[3]
    assert index.search(q * 100, 5).ids.tolist() == index.search(q, 5).ids.tolist()
    assert index.search(q, 1).scores[0] == pytest.approx(1.0, abs=1e-5)


def test_float16_storage_close_to_float32(data: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vecs = data
    q = np.random.default_rng(3).normal(size=64)
    full, half = VectorIndex(ids, vecs), VectorIndex(ids, vecs, dtype="float16")
    assert half.matrix.dtype == np.float16 and half.matrix.nbytes * 2 == full.matrix.nbytes
    assert np.allclose(full.scores(q), half.scores(q), atol=2e-3)
    assert len(set(full.search(q, 10).ids) & set(half.search(q, 10).ids)) >= 9


def test_chunked_scores_equal_unchunked(data: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    ids, vecs = data
    q = vecs[0]
    expected = VectorIndex(ids, vecs).scores(q)
    monkeypatch.setattr(search, "CHUNK_ROWS", 77)  # not a divisor of 1000: a ragged last chunk
    assert np.allclose(VectorIndex(ids, vecs).scores(q), expected, atol=1e-6)


@pytest.mark.parametrize("fraction", [0.05, 0.6])  # the subset path and the masked full path
def test_allowed_ids_and_mask(data: tuple[np.ndarray, np.ndarray], fraction: float) -> None:
    ids, vecs = data
    rng = np.random.default_rng(4)
    allowed = set(rng.choice(ids, int(fraction * len(ids)), replace=False).tolist())
    q = rng.normal(size=64)
    index = VectorIndex(ids, vecs)
    hits = index.search(q, 10, allowed=allowed)
    sub = np.array(sorted(allowed))
    assert hits.ids.tolist() == brute(sub, vecs[sub - 100], q, 10).tolist()
    mask = np.isin(ids, sub)
    assert index.search(q, 10, allowed=mask).ids.tolist() == hits.ids.tolist()


def test_exclude_k_larger_than_n_and_empty() -> None:
    ids = np.array([5, 6, 7])
    vecs = np.eye(3, dtype=np.float32)
    index = VectorIndex(ids, vecs)
    hits = index.search(vecs[0], k=10, exclude=[5])
    assert hits.ids.tolist()[0] != 5 and len(hits) == 2
    assert len(index.search(vecs[0], 5, allowed=set())) == 0
    assert len(VectorIndex(np.zeros(0, np.int64), np.zeros((0, 4), np.float32)).search(np.ones(4), 3)) == 0


def test_ties_are_broken_by_id() -> None:
    vecs = np.ones((6, 4), np.float32)
    hits = VectorIndex(np.array([9, 3, 7, 1, 5, 2]), vecs).search(np.ones(4), k=4)
    assert hits.ids.tolist() == [1, 2, 3, 5]


def test_dimension_mismatch_is_an_error(data: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="dimensions"):
        VectorIndex(*data).search(np.ones(3))
