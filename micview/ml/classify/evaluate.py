"""Scoring predictions against labels: the numbers of the reference tables, with scikit-learn's metrics.

Why these metrics: microscopy label sets are very imbalanced (reflected light ≫ AFM), so plain accuracy
mostly measures the largest class; balanced accuracy (mean per-class recall) and macro F1 weigh every class
alike. Top-2 is reported because the reference CLIP zero-shot table gives it, and because a user reviewing
suggestions sees the first two classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class ClassReport:
    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Evaluation:
    """Metrics of one prediction set against one label column (``n`` images scored)."""

    task: str
    truth: str
    model: str
    n: int
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    top1: float
    top2: float | None
    classes: list[str]
    per_class: list[ClassReport]
    confusion: list[list[int]]  # rows: true class, columns: predicted class, in ``classes`` order
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def top_k_accuracy(y_true: Sequence[str], probs: np.ndarray, classes: Sequence[str], k: int) -> float:
    """Fraction of images whose true class is among the ``k`` highest-scored (ties broken by order)."""
    index = {c: i for i, c in enumerate(classes)}
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    hits = [index.get(t, -1) in row for t, row in zip(y_true, order, strict=True)]
    return float(np.mean(hits)) if hits else 0.0


def evaluate(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    *,
    probs: np.ndarray | None = None,
    prob_classes: Sequence[str] | None = None,
    task: str = "",
    truth: str = "",
    model: str = "",
) -> Evaluation:
    """Accuracy, balanced accuracy, macro F1, per-class P/R/F1/support, confusion matrix, top-1/top-2.

    Classes are the union of true and predicted labels (sorted by support), so a class the model invents is
    counted as wrong rather than dropped. ``probs`` (columns in ``prob_classes`` order) adds top-2.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score
    from sklearn.metrics import precision_recall_fscore_support as prfs

    yt, yp = list(y_true), list(y_pred)
    if not yt:
        from micview.ml.classify.errors import NoLabelsError

        raise NoLabelsError(f"No image has both a label in '{truth or task}' and a prediction to compare.")
    counts = {c: yt.count(c) for c in dict.fromkeys(yt)}
    classes = sorted(counts, key=lambda c: (-counts[c], c)) + sorted(set(yp) - set(counts))
    p, r, f, s = prfs(yt, yp, labels=classes, zero_division=0)
    per_class = [ClassReport(c, float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, c in enumerate(classes)]
    top2 = None
    if probs is not None and prob_classes is not None and len(prob_classes) >= 2:
        top2 = top_k_accuracy(yt, probs, prob_classes, 2)
    acc = float(accuracy_score(yt, yp))
    return Evaluation(
        task=task, truth=truth, model=model, n=len(yt), accuracy=acc,
        balanced_accuracy=float(balanced_accuracy_score(yt, yp)),
        macro_f1=float(f1_score(yt, yp, average="macro", zero_division=0)),
        top1=acc, top2=top2, classes=classes, per_class=per_class,
        confusion=confusion_matrix(yt, yp, labels=classes).tolist(),
    )  # fmt: skip
