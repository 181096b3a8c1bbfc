"""Honest accuracy estimates from the labels alone: cross-validation and k-shot learning curves.

Why both: cross-validation says how good the classifier is with *all* labels given; the learning curve
(k labels per class, repeated random draws, mean ± sd) says how many a user must give before it is useful,
which is the question on a new data set. The k-shot protocol: for each repeat and class, draw up to ``k``
training images, keeping at least one image of every class for testing (classes smaller than k + 1 train on
fewer: the report gives the real numbers), train on them, test on every other image.

**Groups.** Several images of one specimen (frames of one sample, the same sample under two microscopes)
look alike, so an image whose specimen is in the training set is nearly a free answer. Given ``groups`` (one
key per image, e.g. the specimen), folds never split a group (stratified group k-fold) and k-shot tests only
on images whose group has no training image. Use it whenever such groups are known.

The ``*_steps`` functions are generator tasks yielding :class:`~micview.core.tasks.Progress` (the CLI draws a
bar, the GUI a progress indicator); the plain functions run them to the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from micview.core.tasks import Progress, Task, run_task
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


def grouped_folds(
    y: np.ndarray, groups: Sequence[object], folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that never split a group (as many as the number of groups of the rarest class allows)."""
    from sklearn.model_selection import StratifiedGroupKFold

    g = group_codes(groups)
    per_class = [len(set(g[y == c].tolist())) for c in np.unique(y)]
    n = min(folds, *per_class)
    if n < 2:
        return []
    return list(StratifiedGroupKFold(n, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, g))


def cross_validate_steps(
    X: np.ndarray, labels: Sequence[str], *, folds: int = 5, method: str = "auto", seed: int = 0, task: str = "",
    groups: Sequence[object] | None = None,
) -> Task[Evaluation]:  # fmt: skip
    """Out-of-fold predictions for every labelled image (stratified, grouped when ``groups``), scored."""
    y = np.asarray(labels)
    classes = sorted(set(labels))
    yi = np.array([classes.index(c) for c in y])
    splits = (
        (grouped_folds(yi, groups, folds, seed) if groups is not None else folds_for(yi, seed, folds)) if folds else []
    )
    if len(splits) < 2:
        from micview.ml.classify.errors import NoLabelsError

        what = "two specimens (groups)" if groups is not None else "two labelled images"
        raise NoLabelsError(f"Cross-validation needs at least {what} of every class.")
    proba = np.zeros((len(y), len(classes)))
    chosen: dict[str, int] = {}
    for i, (tr, te) in enumerate(splits):
        yield Progress(i, len(splits), f"Cross-validation fold {i + 1} of {len(splits)}")
        model = fit_few_shot(X[tr], list(y[tr]), classes=classes, method=method, seed=seed)
        proba[te] = model.proba(X[te])
        chosen[model.method] = chosen.get(model.method, 0) + 1
    yield Progress(len(splits), len(splits), "Scoring")
    pred = [classes[i] for i in proba.argmax(1)]
    ev = evaluate(list(y), pred, probs=proba, prob_classes=classes, task=task, truth=task, model="cross-validation")
    ev.extra.update(folds=len(splits), grouped=groups is not None, methods=chosen)
    return ev


def cross_validate(
    X: np.ndarray, labels: Sequence[str], *, folds: int = 5, method: str = "auto", seed: int = 0, task: str = "",
    groups: Sequence[object] | None = None,
) -> Evaluation:  # fmt: skip
    """:func:`cross_validate_steps` run to the end."""
    return run_task(cross_validate_steps(X, labels, folds=folds, method=method, seed=seed, task=task, groups=groups))


def group_codes(groups: Sequence[object]) -> np.ndarray:
    """Small integers for group keys, in order of first appearance (stable across processes, unlike hash)."""
    index: dict[object, int] = {}
    return np.asarray([index.setdefault(x, len(index)) for x in groups], np.int64)


def k_shot_split(
    y: np.ndarray, k: int, rng: np.random.Generator, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, test rows): up to ``k`` random rows per class, always leaving every class something to test.

    With ``groups`` the test rows share no group with a training row, and a row is not drawn if its group is
    the last one of its class left untouched.
    """
    g = np.arange(len(y)) if groups is None else np.asarray(groups)
    train: list[int] = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        class_groups = set(g[idx].tolist())
        used: set[int] = set()
        taken = 0
        for i in idx.tolist():
            if taken >= k:
                break
            if not class_groups - used - {int(g[i])}:
                continue  # taking i would leave this class nothing to test on
            train.append(i)
            used.add(int(g[i]))
            taken += 1
    tr = np.asarray(sorted(train), np.int64)
    return tr, np.flatnonzero(~np.isin(g, g[tr]))


def learning_curve_steps(
    X: np.ndarray,
    labels: Sequence[str],
    ks: Sequence[int] = (1, 5, 10, 20),
    *,
    repeats: int = 10,
    method: str = "auto",
    seed: int = 0,
    groups: Sequence[object] | None = None,
) -> Task[list[CurvePoint]]:
    """Balanced accuracy, macro F1 and accuracy (mean, sd over ``repeats`` draws) for each ``k``."""
    y = np.asarray(labels)
    g = None if groups is None else group_codes(groups)
    classes = sorted({str(c) for c in labels})
    out = []
    total = len(ks) * repeats
    for ki, k in enumerate(ks):
        scores, methods, sizes = [], {}, []  # type: list[tuple[float, float, float]], dict[str, int], list[dict[str, int]]
        for r in range(repeats):
            yield Progress(ki * repeats + r, total, f"{k} labels per class, draw {r + 1} of {repeats}")
            tr, te = k_shot_split(y, k, np.random.default_rng([seed, k, r]), g)
            model = fit_few_shot(X[tr], list(y[tr]), classes=classes, method=method, seed=seed)
            pred = [classes[i] for i in model.proba(X[te]).argmax(1)]
            e = evaluate(list(y[te]), pred)
            scores.append((e.balanced_accuracy, e.macro_f1, e.accuracy))
            methods[model.method] = methods.get(model.method, 0) + 1
            sizes.append({c: int((y[tr] == c).sum()) for c in classes})
        s = np.asarray(scores)
        per_class = {c: min(d[c] for d in sizes) for c in classes}
        ms = [(float(s[:, j].mean()), float(s[:, j].std())) for j in range(3)]
        out.append(CurvePoint(k, repeats, per_class, ms[0], ms[1], ms[2], methods))
    yield Progress(total, total, "Done")
    return out


def learning_curve(
    X: np.ndarray,
    labels: Sequence[str],
    ks: Sequence[int] = (1, 5, 10, 20),
    *,
    repeats: int = 10,
    method: str = "auto",
    seed: int = 0,
    groups: Sequence[object] | None = None,
) -> list[CurvePoint]:
    """:func:`learning_curve_steps` run to the end."""
    steps = learning_curve_steps(X, labels, ks, repeats=repeats, method=method, seed=seed, groups=groups)
    return run_task(steps)
