"""The approximate index: recall against exact search, incremental add/remove, the sidecar cache's checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from micview.core import search as core_search
from micview.core.search import VectorIndex, normalise
from micview.ml import ann


def unit(n: int, dim: int = 48, seed: int = 0) -> np.ndarray:
    return normalise(np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32))


@pytest.fixture(autouse=True)
def _small_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    # the thresholds are sized for 1M rows; shrink them so a few thousand rows take the approximate path
    monkeypatch.setattr(core_search, "EXACT_BELOW_ROWS", 100)
    monkeypatch.setattr(core_search, "MIN_CANDIDATES", 16)


class CountingSource:
    """Wraps the quantized index to prove the approximate path is the one answering."""

    def __init__(self, inner: ann.QuantizedIndex) -> None:
        self.inner, self.calls = inner, 0

    def candidates(self, query: np.ndarray, n: int) -> np.ndarray:
        self.calls += 1
        return self.inner.candidates(query, n)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.inner.add(ids, vectors)

    def remove(self, ids: np.ndarray) -> None:
        self.inner.remove(ids)


def test_recall_and_exact_scores_on_random_vectors() -> None:
    vecs, qs = unit(4000), unit(25, seed=1)
    ids = np.arange(10, 4010)
    exact, fast = VectorIndex(ids, vecs), VectorIndex(ids, vecs)
    source = CountingSource(ann.attach(fast, "m"))
    fast.approximate = source
    recall = []
    for q in qs:
        e, a = exact.search(q, 10), fast.search(q, 10)
        recall.append(len(set(e.ids) & set(a.ids)) / 10)
        # re-ranked exactly: every returned score is the true cosine of that row
        assert np.allclose(a.scores, vecs[a.ids - 10] @ q, atol=1e-5)
    assert source.calls == len(qs)
    assert np.mean(recall) >= 0.95


def test_incremental_add_replace_and_remove() -> None:
    vecs = unit(3000)
    index = VectorIndex(np.arange(3000), vecs)
    quant = ann.attach(index, "m")
    new = unit(5, seed=7)
    index.add(np.array([5000, 5001, 5002, 5003, 5004]), new)
    assert len(index) == len(quant) == 3005
    assert index.search(new[2], 1).ids.tolist() == [5002]
    index.add(np.array([5002]), new[4][None])  # a changed image: same id, new vector
    assert len(quant) == 3005
    assert index.search(new[4], 2).ids.tolist() == [5002, 5004]  # a tie, broken by id
    index.remove([5004, 17])
    assert len(index) == len(quant) == 3003 and 17 not in set(quant.ids().tolist())
    assert index.search(new[4], 1).ids.tolist() == [5002]
    assert 17 not in index.search(vecs[17], 5).ids.tolist()


def test_filters_use_candidates_and_stay_inside_the_filter() -> None:
    vecs = unit(4000)
    ids = np.arange(4000)
    exact, fast = VectorIndex(ids, vecs), VectorIndex(ids, vecs)
    ann.attach(fast, "m")
    allowed = np.random.default_rng(3).random(4000) < 0.5
    q = unit(1, seed=9)[0]
    got = fast.search(q, 10, allowed=allowed, exclude=[int(np.flatnonzero(allowed)[0])])
    want = exact.search(q, 10, allowed=allowed, exclude=[int(np.flatnonzero(allowed)[0])])
    assert allowed[got.ids].all()
    assert len(set(got.ids) & set(want.ids)) >= 9


def test_sidecar_is_reused_repaired_or_rebuilt(tmp_path: Path) -> None:
    vecs = unit(2000)
    cache = ann.sidecar_path(tmp_path / "p.micview", "open_clip:ViT-B/32")
    assert cache.parent.name == "p.micview.cache" and "/" not in cache.name
    first = ann.attach(VectorIndex(np.arange(2000), vecs), "m", cache)
    assert cache.is_file() and len(first) == 2000
    stamp = cache.stat().st_mtime_ns
    ann.attach(VectorIndex(np.arange(2000), vecs), "m", cache)
    assert cache.stat().st_mtime_ns == stamp  # valid: loaded, not rewritten
    # more images embedded since: the stored index is completed incrementally and written back
    grown = VectorIndex(np.arange(2100), np.concatenate([vecs, unit(100, seed=4)]))
    assert len(ann.attach(grown, "m", cache)) == 2100
    assert ann.load(cache) is not None and len(ann.load(cache)[0]) == 2100  # type: ignore[index]
    # same ids but different vectors (re-embedded with other weights): the sample check rejects the file
    other = VectorIndex(np.arange(2100), unit(2100, seed=5))
    rebuilt = ann.attach(other, "m", cache)
    assert ann.agrees(rebuilt, other)
    # a damaged file is never trusted
    cache.write_bytes(b"not an index")
    assert ann.load(cache) is None
    assert len(ann.attach(VectorIndex(np.arange(2000), vecs), "m", cache)) == 2000


def test_unwritable_cache_folder_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "p.micview.cache"
    blocker.write_text("a file where the cache folder would go")
    index = VectorIndex(np.arange(500), unit(500))
    assert len(ann.attach(index, "m", ann.sidecar_path(tmp_path / "p.micview", "m"))) == 500
    assert index.approximate is not None
