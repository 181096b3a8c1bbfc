"""Suggestions: cover unlabelled regions first, then uncertainty balanced across predicted classes, no
near-duplicates, a reason for each (synthetic vectors, fast)."""

from __future__ import annotations

import numpy as np

from micview.ml.classify.suggest import regions, suggest


def clusters(sizes: list[int], dim: int = 24, spread: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in well-separated clusters; returns (X, cluster index per row)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    X = np.concatenate([c + spread * rng.normal(size=(n, dim)) for c, n in zip(centres, sizes, strict=True)])
    which = np.repeat(np.arange(len(sizes)), sizes)
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), which


def test_without_a_classifier_every_region_gets_one_typical_image() -> None:
    X, which = clusters([30, 20, 10, 5])
    out = suggest(np.arange(len(X)), X, set(), 4, region_of=which)
    assert sorted(which[[s.image_id for s in out]].tolist()) == [0, 1, 2, 3]  # one per region
    assert which[out[0].image_id] == 0  # largest region first
    assert all(s.kind == "cover" and "similar images" in s.reason for s in out)


def test_regions_with_a_label_are_covered_and_unseen_classes_get_the_slots() -> None:
    X, which = clusters([30, 20, 10, 5])
    labelled = {0: "a", 30: "b"}  # regions 0 and 1 have labels; the task also has class 'c', never labelled
    proba = np.tile([0.6, 0.4, 0.0], (len(X), 1))
    out = suggest(np.arange(len(X)), X, labelled, 3, proba=proba, classes=["a", "b", "c"], region_of=which)
    cover = [s for s in out if s.kind == "cover"]
    assert len(cover) == 2 and {which[s.image_id] for s in cover} == {2, 3}  # the two unlabelled regions
    assert out[-1].kind == "uncertain" and out[-1].reason.startswith("unsure: ")


def test_uncertainty_is_balanced_across_predicted_classes() -> None:
    X, which = clusters([40, 40, 40], spread=0.5)
    labelled = {0: "a", 40: "b", 80: "c"}  # every region covered
    rng = np.random.default_rng(1)
    proba = rng.dirichlet([1, 1, 1], len(X))
    proba[:40, 0] += 2  # predicted 'a' in region 0, etc.; a few very uncertain ones in region 0 only
    proba[40:80, 1] += 2
    proba[80:, 2] += 2
    proba /= proba.sum(1, keepdims=True)
    proba[1:10] = [0.34, 0.33, 0.33]
    out = suggest(np.arange(len(X)), X, labelled, 6, proba=proba, classes=["a", "b", "c"], region_of=which)
    predicted = [s.predicted for s in out if s.kind == "uncertain"]
    assert len(predicted) == 6 and {predicted.count(c) for c in "abc"} == {2}  # 2 each, not 6 from region 0


def test_never_labelled_images_nor_near_duplicates_of_them() -> None:
    X, which = clusters([30, 30], seed=3)
    X[1:6] = X[0] + 1e-4  # five near-copies of the labelled image 0 (frames of one specimen)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    proba = np.tile([0.9, 0.1], (len(X), 1))
    proba[:6] = [0.5, 0.5]  # the near-copies are the most uncertain images of all
    out = suggest(np.arange(len(X)), X, {0: "a", 30: "b"}, 10, proba=proba, classes=["a", "b"], region_of=which)
    ids = [s.image_id for s in out]
    assert len(ids) == 10 and len(set(ids)) == 10 and not set(ids) & {0, 1, 2, 3, 4, 5, 30}


def test_nothing_left_and_regions_are_deterministic() -> None:
    X, _ = clusters([10, 10])
    assert suggest(np.arange(20), X, set(range(20)), 5) == []
    assert np.array_equal(regions(X), regions(X)) and len(set(regions(X).tolist())) >= 2
