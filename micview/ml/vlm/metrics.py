"""Scores of a multiple-choice evaluation (scikit-learn, imported inside the functions) and its CSV export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from micview.core.store import Project

NO_ANSWER = "(no answer)"


@dataclass(frozen=True, slots=True)
class McqMetrics:
    """Accuracy, balanced accuracy (mean recall per true class), macro F1 and the confusion matrix
    (rows: truth, columns: prediction, both in ``labels`` order)."""

    n: int
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    labels: list[str]
    confusion: np.ndarray
    unanswered: int


def mcq_metrics(truth: Sequence[str], predicted: Sequence[str]) -> McqMetrics:
    """Metrics over answered and unanswered rows alike (an empty prediction counts as wrong)."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

    pred = [p or NO_ANSWER for p in predicted]
    labels = sorted(set(truth)) + sorted(set(pred) - set(truth))
    if not truth:
        return McqMetrics(0, float("nan"), float("nan"), float("nan"), [], np.zeros((0, 0), int), 0)
    import warnings

    with warnings.catch_warnings():  # a class never predicted: recall 0 is the right answer, not a warning
        warnings.simplefilter("ignore")
        bal = float(balanced_accuracy_score(truth, pred))
    return McqMetrics(
        n=len(truth),
        accuracy=float(accuracy_score(truth, pred)),
        balanced_accuracy=bal,
        macro_f1=float(f1_score(truth, pred, labels=sorted(set(truth) | set(pred)), average="macro", zero_division=0)),
        labels=labels,
        confusion=confusion_matrix(truth, pred, labels=labels),
        unanswered=sum(p == NO_ANSWER for p in pred),
    )


def run_metrics(project: Project, run_id: int) -> McqMetrics:
    rows = [a for a in project.answers.for_run(run_id) if a.truth is not None]
    return mcq_metrics([a.truth or "" for a in rows], [a.answer for a in rows])


def seconds_per_image(project: Project, run_id: int) -> float:
    """Model time per distinct image of the run (several questions on one image count once)."""
    rows = project.answers.for_run(run_id)
    images = {a.image_id for a in rows}
    return sum(a.seconds or 0.0 for a in rows) / len(images) if images else float("nan")


def export_results(project: Project, run_id: int, path: str | Path) -> Path:
    """One CSV row per evaluated question: file, truth, prediction, correct, and each option's probability."""
    from micview.core.csv_io import csv_cell, write_csv_atomic

    rows = project.answers.for_run(run_id)
    n_opt = max((len(a.options or []) for a in rows), default=0)
    header = ["file", "key", "question", "truth", "prediction", "correct", "score"]
    header += [f"option_{i + 1}" for i in range(n_opt)] + [f"p_option_{i + 1}" for i in range(n_opt)]
    header += ["model_id", "seconds"]
    out = []
    for a in rows:
        options, scores = a.options or [], a.scores or []
        best = max(scores) if scores else None
        line = [project.images.get(a.image_id).path, a.item_key, a.question, a.truth, a.answer,
                int(a.answer == a.truth), best]  # fmt: skip
        line += options + [""] * (n_opt - len(options)) + [f"{s:.6f}" for s in scores] + [""] * (n_opt - len(scores))
        out.append([csv_cell(v) for v in [*line, a.model_id, a.seconds]])
    path = Path(path)
    write_csv_atomic(path, header, out)
    return path
