"""Honest accuracy estimates from the labels alone: cross-validation and k-shot learning curves.

Why both: cross-validation says how good the classifier is with *all* labels given; the learning curve
(k labels per class, repeated random draws, mean ± sd) says how many a user must give before it is useful,
which is the question on a new data set. The k-shot protocol: for each repeat and class, draw
``min(k, n_class − 1)`` training images (at least one stays for testing, so classes smaller than k + 1 are
trained on fewer than k: the report gives the real numbers), train on them, test on every other image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from micview.ml.classify.evaluate import Evaluation, evaluate
from micview.ml.classify.fewshot import fit_few_shot, folds_for


@dataclass
class CurvePoint:
    k: int
    repeats: int
    train_per_class: dict[str, int]
    balanced_accuracy: tuple[float, float]  # (mean, sd)
    macro_f1: tuple[float, float]
    accuracy: tuple[float, float]
    methods: dict[str, int] = field(default_factory=dict)  # method chosen -> how many repeats


def cross_validate(
    X: np.ndarray, labels: Sequence[str], *, folds: int = 5, method: str = "auto", seed: int = 0, task: str = ""
) -> Evaluation:
    """Out-of-fold predictions for every labelled image (stratified folds), scored with :func:`evaluate`."""
    y = np.asarray(labels)
    classes = sorted(set(labels))
    yi = np.array([classes.index(c) for c in y])
    splits = folds_for(yi, seed, folds) if folds else []
    if len(splits) < 2:
        from micview.ml.classify.errors import NoLabelsError

        raise NoLabelsError("Cross-validation needs at least two labelled images of every class.")
    proba = np.zeros((len(y), len(classes)))
    for tr, te in splits:
        proba[te] = fit_few_shot(X[tr], list(y[tr]), classes=classes, method=method, seed=seed).proba(X[te])
    pred = [classes[i] for i in proba.argmax(1)]
    ev = evaluate(list(y), pred, probs=proba, prob_classes=classes, task=task, truth=task, model="cross-validation")
    ev.extra["folds"] = len(splits)
    return ev


def k_shot_split(y: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    train = [rng.choice(idx, min(k, len(idx) - 1), replace=False) for c in np.unique(y)
             if len(idx := np.flatnonzero(y == c)) > 1]  # fmt: skip
    tr = np.concatenate(train) if train else np.zeros(0, np.int64)
    return tr, np.setdiff1d(np.arange(len(y)), tr)


def learning_curve(
    X: np.ndarray,
    labels: Sequence[str],
    ks: Sequence[int] = (1, 5, 10, 20),
    *,
    repeats: int = 10,
    method: str = "auto",
    seed: int = 0,
) -> list[CurvePoint]:
    """Balanced accuracy, macro F1 and accuracy (mean, sd over ``repeats`` draws) for each ``k``."""
    y = np.asarray(labels)
    classes = sorted(set(labels))
    out = []
    for k in ks:
        scores, methods = [], {}  # type: list[tuple[float, float, float]], dict[str, int]
        for r in range(repeats):
            tr, te = k_shot_split(y, k, np.random.default_rng([seed, k, r]))
            model = fit_few_shot(X[tr], list(y[tr]), classes=classes, method=method, seed=seed)
            pred = [classes[i] for i in model.proba(X[te]).argmax(1)]
            e = evaluate(list(y[te]), pred)
            scores.append((e.balanced_accuracy, e.macro_f1, e.accuracy))
            methods[model.method] = methods.get(model.method, 0) + 1
        s = np.asarray(scores)
        per_class = {c: min(k, int((y == c).sum()) - 1) for c in classes}
        ms = [(float(s[:, j].mean()), float(s[:, j].std())) for j in range(3)]
        out.append(CurvePoint(k, repeats, per_class, ms[0], ms[1], ms[2], methods))
    return out
