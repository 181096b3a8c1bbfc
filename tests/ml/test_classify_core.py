"""Few-shot, calibration, combination, suggestions, metrics and reports on synthetic vectors (fast, no model)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from micview.ml.classify import (
    LiveClassifier,
    NoLabelsError,
    OneClassError,
    evaluate,
    fit_few_shot,
    learning_curve,
    suggest,
    top_k_accuracy,
    write_report,
)
from micview.ml.classify.combine import choose_weight, combine
from micview.ml.classify.curves import cross_validate, k_shot_split
from micview.ml.classify.fewshot import fit_temperature, log_softmax


def blobs(n_per: int, n_classes: int = 3, dim: int = 32, spread: float = 0.6, seed: int = 0):
    """Unit vectors around ``n_classes`` random centres; ``spread`` sets how much the classes overlap."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, dim))
    X = np.concatenate([c + spread * rng.normal(size=(n_per, dim)) for c in centres])
    y = [f"c{i}" for i in range(n_classes) for _ in range(n_per)]
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), y


def test_metrics_equal_sklearn_on_a_hand_example() -> None:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

    yt = ["a", "a", "a", "b", "b", "c", "c", "c", "c", "a"]
    yp = ["a", "b", "a", "b", "c", "c", "c", "a", "c", "a"]
    e = evaluate(yt, yp, task="t")
    assert e.accuracy == pytest.approx(accuracy_score(yt, yp)) == 0.7
    assert e.balanced_accuracy == pytest.approx(balanced_accuracy_score(yt, yp))
    assert e.macro_f1 == pytest.approx(f1_score(yt, yp, average="macro"))
    assert e.classes == ["a", "c", "b"]  # by support, then name
    assert e.confusion == confusion_matrix(yt, yp, labels=["a", "c", "b"]).tolist()
    a = e.per_class[0]
    assert (a.name, a.support, a.recall, a.precision) == ("a", 4, 0.75, 0.75)


def test_top_k() -> None:
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.2, 0.5, 0.3]])
    y = ["b", "c", "a"]
    assert top_k_accuracy(y, probs, ["a", "b", "c"], 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(y, probs, ["a", "b", "c"], 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(y, probs, ["a", "b", "c"], 3) == 1.0


def test_errors_users_can_cause() -> None:
    X, _ = blobs(3)
    with pytest.raises(NoLabelsError):
        fit_few_shot(X[:0], [])
    with pytest.raises(OneClassError, match="another class"):
        fit_few_shot(X[:3], ["a", "a", "a"])


def test_auto_method_and_calibration_on_separable_data() -> None:
    X, y = blobs(30, spread=0.4)
    m = fit_few_shot(X, y)
    assert set(m.cv) == {"prototype", "knn", "logreg"} and min(m.cv.values()) > 0.9
    p = m.proba(X)
    assert np.allclose(p.sum(1), 1) and (np.array(m.classes)[p.argmax(1)] == np.array(y)).mean() > 0.95
    one_per_class = fit_few_shot(X[[0, 30, 60]], [y[0], y[30], y[60]])
    assert one_per_class.method == "logreg" and one_per_class.temperature == 1.0 and not one_per_class.cv


def test_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 2000)
    true_logits = rng.normal(size=(2000, 3)) + 1.5 * np.eye(3)[y]
    y = np.array([rng.choice(3, p=p) for p in np.exp(log_softmax(true_logits))])
    assert fit_temperature(4.0 * true_logits, y) == pytest.approx(4.0, rel=0.15)


def test_learning_curve_increases_with_k() -> None:
    X, y = blobs(40, n_classes=4, spread=1.3, seed=2)
    curve = learning_curve(X, y, [1, 5, 20], repeats=6, method="logreg")
    ba = [p.balanced_accuracy[0] for p in curve]
    assert ba[0] < ba[1] < ba[2] and ba[2] > 0.8
    assert curve[0].train_per_class == {f"c{i}": 1 for i in range(4)}


def test_k_shot_split_keeps_one_test_image_per_class() -> None:
    y = np.array(["a"] * 3 + ["b"] * 30)
    tr, te = k_shot_split(y, 10, np.random.default_rng(0))
    assert (y[tr] == "a").sum() == 2 and (y[tr] == "b").sum() == 10 and len(set(tr) & set(te)) == 0


def test_cross_validation_scores_every_labelled_image() -> None:
    X, y = blobs(12, spread=0.3)
    e = cross_validate(X, y, folds=4)
    assert e.n == 36 and e.extra["folds"] == 4 and e.balanced_accuracy > 0.9 and e.top2 is not None


def test_combination_weight_prefers_the_informative_source() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    good = log_softmax(3.0 * np.eye(3)[y] + rng.normal(size=(200, 3)))
    noise = log_softmax(rng.normal(size=(200, 3)))
    assert choose_weight(good, noise, y) >= 0.75
    assert choose_weight(noise, good, y) <= 0.25
    assert choose_weight(None, noise, y[:10]) == pytest.approx(0.5)
    assert np.allclose(np.exp(combine(good, noise, 0.3)).sum(1), 1)


def test_suggestions_skip_labelled_images_and_near_duplicates() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 16))
    X[10:20] = X[10] + 0.01 * rng.normal(size=(10, 16))  # ten near-duplicates, all uncertain
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    proba = np.tile([0.95, 0.05], (100, 1))
    proba[10:20] = [0.5, 0.5]
    proba[0] = [0.5, 0.5]  # the most uncertain, but labelled
    out = suggest(np.arange(100), X, {0: "x", 99: "y"}, 6, proba=proba, classes=["x", "y"])
    ids = [s.image_id for s in out]
    assert 0 not in ids and 99 not in ids and len(set(ids)) == 6
    assert sum(10 <= i < 20 for i in ids) == 1  # one of the duplicates, not several
    assert all(s.reason and s.predicted in ("x", "y") for s in out)
    first = suggest(np.arange(100), X, set(), 5)  # no model: a spread-out starting set
    assert len({s.image_id for s in first}) == 5 and sum(10 <= s.image_id < 20 for s in first) <= 1


def test_live_classifier_is_fast_and_reselects_only_when_needed() -> None:
    X, y = blobs(400, n_classes=3, dim=1280, spread=1.5)
    live = LiveClassifier(np.arange(len(X)), X)
    labels = {i: y[i] for i in range(0, len(X), 2)}  # 600 labels
    assert live.update({0: "c0"}) is None  # one class: nothing to learn yet
    live.update(labels)
    method = live.model.method
    labels.update({i: y[i] for i in range(1, 800, 2)})  # 1,000 labels: +67 %, selection again
    live.update(labels)
    labels[801] = y[801]
    start = time.perf_counter()
    p = live.update(labels)
    assert time.perf_counter() - start < 1.0, "refit with known method must be interactive"
    assert p.shape == (1200, 3) and live.model.method in (method, "prototype", "knn", "logreg")


def test_report_files(tmp_path: Path) -> None:
    e = evaluate(["a", "b", "b", "a"], ["a", "b", "a", "a"], probs=np.eye(2)[[0, 1, 0, 0]], prob_classes=["a", "b"],
                 task="technique_group", truth="technique", model="m")  # fmt: skip
    X, y = blobs(6, n_classes=2)
    curve = learning_curve(X, y, [1, 3], repeats=2)
    paths = write_report(tmp_path / "rep", [e], curves={"technique_group": curve}, notes=["a note"])
    md = paths["md"].read_text()
    assert "| Task | Metric | Score |" in md and "| technique_group | Top-1 Accuracy | 75.00% |" in md
    assert "| Task | Accuracy | Balanced Accuracy | Macro F1 |" in md and "confusion_technique_group.png" in md
    assert paths["technique_group"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(paths["json"].read_text())
    assert (
        data["evaluations"][0]["confusion"] == [[2, 0], [1, 1]] and len(data["learning_curves"]["technique_group"]) == 2
    )
    assert "<table>" in paths["html"].read_text()


def test_report_writes_are_atomic_and_fail_with_a_plain_error(tmp_path: Path) -> None:
    """A report that cannot be written says why (no traceback) and leaves the previous one and no temp files."""
    from micview.core.errors import OutputError

    e = evaluate(["a", "b"], ["a", "b"], task="t", truth="t", model="m")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(OutputError, match="a-file"):
        write_report(tmp_path / "a-file", [e])
    folder = tmp_path / "rep"
    first = write_report(folder, [e], notes=["first"])
    before = first["json"].read_bytes()
    first["html"].unlink()
    first["html"].mkdir()  # report.html cannot be replaced now
    with pytest.raises(OutputError):
        write_report(folder, [e], notes=["second"])
    assert first["json"].read_bytes() == before  # written after the html: untouched
    assert sorted(p.name for p in folder.iterdir()) == ["confusion_t.png", "report.html", "report.json", "report.md"]


@pytest.mark.parametrize("method", ["prototype", "knn", "logreg"])
def test_a_defined_class_nobody_labelled_gets_a_column_but_no_predictions(method: str) -> None:
    X, y = blobs(10, n_classes=3, dim=64, spread=0.4)
    m = fit_few_shot(X, y, classes=["c0", "c1", "c2", "never"], method=method)
    p = m.proba(X)
    assert p.shape == (30, 4) and np.isfinite(p).all() and np.allclose(p.sum(1), 1)
    assert p[:, 3].max() < 0.1 and (p.argmax(1) == np.repeat([0, 1, 2], 10)).mean() > 0.9


def test_subspace_and_warm_start_keep_the_answers() -> None:
    from micview.ml.classify.fewshot import fit_basis

    X, y = blobs(60, n_classes=3, dim=600, spread=1.2, seed=4)
    B = fit_basis(X, dims=64)
    assert B is not None and B.components.shape == (64, 600)
    full = fit_few_shot(X[::2], y[::2], method="logreg", calibrate=False, basis=None)
    sub = fit_few_shot(X[::2], y[::2], method="logreg", calibrate=False, basis=B)
    warm = fit_few_shot(X[::2], y[::2], method="logreg", calibrate=False, basis=B, init=sub)
    agree = (full.proba(X[1::2]).argmax(1) == sub.proba(X[1::2]).argmax(1)).mean()
    assert agree > 0.9 and sub.state["coef"].shape == (3, 600)  # weights mapped back to the full space
    assert np.allclose(warm.proba(X), sub.proba(X), atol=0.05)
