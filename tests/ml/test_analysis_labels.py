"""Out-of-fold probabilities for confident learning, both paths, on clustered vectors with planted label
mistakes: classes made of several separate clusters (as a technique spans many materials)."""

from __future__ import annotations

import numpy as np
import pytest

from micview.core.quality import find_label_issues
from micview.core.quality.knn import exact_graph
from micview.core.search import normalise
from micview.ml.analysis import image_side
from micview.ml.analysis import imageside as imageside_module
from micview.ml.quality import labels as labels_module
from micview.ml.quality.labels import out_of_fold


def clustered(n: int, seed: int = 0) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``n`` vectors in 40 tight clusters; class = cluster mod 4; 3 % of the labels flipped."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, 32))
    cluster = rng.integers(0, 40, n)
    X = normalise(centres[cluster] + 0.15 * rng.normal(size=(n, 32)))
    y = cluster % 4
    flip = rng.choice(n, n * 3 // 100, replace=False)
    y[flip] = (y[flip] + rng.integers(1, 4, len(flip))) % 4
    flipped = np.zeros(n, np.bool_)
    flipped[flip] = True
    return X, [f"c{v}" for v in y], flipped


@pytest.mark.parametrize("path", ["few-shot", "graph"])
def test_planted_mistakes_are_found(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y, flipped = clustered(1200)
    graph = None
    if path == "graph":
        monkeypatch.setattr(labels_module, "FEW_SHOT_UP_TO", 100)
        graph = exact_graph(X, 10)
    oof = out_of_fold(X, y, graph=graph)
    assert oof is not None and oof.classes == ["c0", "c1", "c2", "c3"] and len(oof.rows) == 1200
    assert ("neighbour graph" in oof.method) == (path == "graph")
    assert np.allclose(oof.proba.sum(1), 1)
    issues = find_label_issues(oof.labels, oof.proba)
    recall, precision = issues.is_issue[flipped].mean(), flipped[issues.is_issue].mean()
    assert recall >= 0.8 and precision >= 0.8, (recall, precision)


def test_rare_classes_are_left_out_and_one_class_is_not_enough() -> None:
    X, y, _ = clustered(60)
    y[:2] = ["rare", "rare"]
    oof = out_of_fold(X, y)
    assert oof is not None and oof.skipped == ["rare"] and 0 not in oof.rows and 1 not in oof.rows
    assert out_of_fold(X[:10], ["a"] * 8 + ["b"] * 2) is None


def test_image_side_samples_its_queries_above_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    X, y, _ = clustered(600, seed=1)
    full = image_side(np.arange(600), X, list(y))
    monkeypatch.setattr(imageside_module, "SAMPLE_QUERIES", 200)
    sampled = image_side(np.arange(600), X, list(y))
    assert full is not None and sampled is not None
    assert full.neighbours_from == 600 and sampled.neighbours_from == 200
    assert np.abs(sampled.neighbour_share - full.neighbour_share).max() < 0.1  # an estimate of the same shares
