"""Grouped evaluation: folds and k-shot draws never put one specimen on both sides; progress is reported."""

from __future__ import annotations

import numpy as np
import pytest

from micview.core.tasks import Progress
from micview.ml.classify.curves import (
    cross_validate,
    cross_validate_steps,
    group_codes,
    grouped_folds,
    k_shot_split,
    learning_curve_steps,
)
from micview.ml.classify.errors import NoLabelsError


def specimens(n_specimens: int = 30, frames: int = 3, seed: int = 0) -> tuple[np.ndarray, list[str], list[str]]:
    """Two classes; every specimen has ``frames`` near-identical images (so a leak would be a free answer)."""
    rng = np.random.default_rng(seed)
    X, y, g = [], [], []
    for s in range(n_specimens):
        centre = rng.normal(size=16)
        for _ in range(frames):
            X.append(centre + 0.01 * rng.normal(size=16))
            y.append("a" if s % 3 else "b")
            g.append(f"spec{s}")
    Xa = np.asarray(X)
    return (Xa / np.linalg.norm(Xa, axis=1, keepdims=True)).astype(np.float32), y, g


def test_group_codes_are_stable_small_integers() -> None:
    assert group_codes(["x", "y", "x", "z"]).tolist() == [0, 1, 0, 2]


def test_grouped_folds_never_split_a_specimen() -> None:
    _, y, g = specimens()
    codes = group_codes(g)
    yi = np.array([0 if c == "a" else 1 for c in y])
    folds = grouped_folds(yi, g, 5, seed=0)
    assert len(folds) == 5
    for tr, te in folds:
        assert not set(codes[tr].tolist()) & set(codes[te].tolist()) and set(yi[te].tolist()) == {0, 1}


def test_k_shot_split_with_groups_tests_only_unseen_specimens() -> None:
    _, y, g = specimens(n_specimens=9)
    codes = group_codes(g)
    ya = np.asarray(y)
    tr, te = k_shot_split(ya, 10, np.random.default_rng(0), codes)
    assert not set(codes[tr].tolist()) & set(codes[te].tolist())
    assert {"a", "b"} <= set(ya[te].tolist())  # every class keeps a specimen to test on
    assert (ya[tr] == "b").sum() == 6  # 'b' has 3 specimens x 3 frames: 2 specimens train, 1 stays for testing


def test_leakage_flatters_and_grouping_removes_it() -> None:
    """Random labels per specimen: ungrouped CV finds the frames' twins (near-perfect); grouped CV is at chance."""
    X, _, g = specimens(n_specimens=40)
    rng = np.random.default_rng(1)
    per_specimen = {s: rng.choice(["a", "b"]) for s in dict.fromkeys(g)}
    y = [str(per_specimen[s]) for s in g]
    leaky = cross_validate(X, y, folds=5, method="knn").balanced_accuracy
    honest = cross_validate(X, y, folds=5, method="knn", groups=g).balanced_accuracy
    assert leaky > 0.9 and honest < 0.75


def test_steps_report_progress_and_results() -> None:
    X, y, g = specimens()
    steps = learning_curve_steps(X, y, [1, 3], repeats=2, groups=g)
    progress = []
    try:
        while True:
            progress.append(next(steps))
    except StopIteration as stop:
        curve = stop.value
    assert all(isinstance(p, Progress) for p in progress) and progress[-1].done == progress[-1].total == 4
    assert [p.k for p in curve] == [1, 3] and curve[1].train_per_class == {"a": 3, "b": 3}
    ev_steps = cross_validate_steps(X, y, folds=3, groups=g)
    msgs = []
    try:
        while True:
            msgs.append(next(ev_steps).message)
    except StopIteration as stop:
        ev = stop.value
    assert "fold 1 of 3" in msgs[0] and ev.extra["grouped"] and sum(ev.extra["methods"].values()) == 3


def test_too_few_specimens_is_a_clear_error() -> None:
    X, y, _ = specimens(n_specimens=6)
    with pytest.raises(NoLabelsError, match="two specimens"):
        cross_validate(X, y, groups=["one"] * len(y))
