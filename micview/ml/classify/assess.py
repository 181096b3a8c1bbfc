"""Evaluating a task's predictions against a label column of the project.

When the truth column is the one the classifier learnt from, its stored predictions for those images are
in-sample (the classifier has seen them) and would flatter it; ``mode='auto'`` then scores out-of-fold
predictions instead (5-fold cross-validation with the same model's vectors) and says so in the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from micview.core.store.annotations import MODEL
from micview.core.tasks import Progress, Task, run_task
from micview.ml.classify.curves import cross_validate_steps
from micview.ml.classify.errors import NoLabelsError
from micview.ml.classify.evaluate import Evaluation, evaluate
from micview.ml.classify.groups import TaskView
from micview.ml.classify.service import labelled_rows, load_vectors

if TYPE_CHECKING:
    from micview.core.store import Project


def evaluate_stored(project: Project, view: TaskView, truth: str) -> Evaluation:
    """The stored predictions of ``view.name`` against the user labels in ``truth`` (grouped like ``view``)."""
    preds = project.labels.current(view.name, MODEL)
    if not preds:
        raise NoLabelsError(f"Task '{view.name}' has no predictions yet; run `micview classify` first.")
    labels = view.labels(project, truth)
    common = [i for i in labels if i in preds]
    classes = list(dict.fromkeys(c for i in common for c in (preds[i].scores or {})))
    probs = np.array([[(preds[i].scores or {}).get(c, 0.0) for c in classes] for i in common]) if classes else None
    model = next(iter(preds.values())).model_id or ""
    return evaluate([labels[i] for i in common], [preds[i].label or "" for i in common],
                    probs=probs, prob_classes=classes, task=view.name, truth=truth, model=model)  # fmt: skip


def last_training_column(project: Project, view: TaskView) -> tuple[str | None, str | None]:
    """(label column, model id) the newest classifier run of ``view.name`` learnt from, if it learnt at all."""
    run = project.runs.latest(f"classify:{view.name}")
    if run is None or not run.params.get("few_shot"):
        return None, run.model_id if run else None
    return run.params.get("labels_from"), run.model_id


def evaluate_task_steps(
    project: Project, view: TaskView, truth: str, *, model_id: str | None = None, mode: str = "auto", folds: int = 5,
    group_by: str | None = None,
) -> Task[Evaluation]:  # fmt: skip
    """Score ``view`` against ``truth``; ``mode`` is 'stored', 'cv' or 'auto' (see the module docstring).

    ``group_by``: a label column whose values group images that must stay on one side of every fold
    (e.g. the specimen), so cross-validation does not test on near-copies of training images.
    """
    trained_on, run_model = last_training_column(project, view)
    if mode == "stored" or (mode == "auto" and trained_on != truth):
        yield Progress(0, 1, "Comparing stored predictions")
        return evaluate_stored(project, view, truth)
    model_id = model_id or run_model
    if model_id is None:
        raise NoLabelsError(f"Say which model's vectors to cross-validate '{view.name}' with (--model).")
    yield Progress(0, 0, "Reading vectors and labels")
    ids, X = load_vectors(project, model_id)
    rows, y = labelled_rows(ids, view.labels(project, truth))
    groups = image_groups(project, ids[rows], group_by) if group_by else None
    ev = yield from cross_validate_steps(X[rows], y, folds=folds, task=view.name, groups=groups)
    grouped = f", grouped by {group_by}" if group_by else ""
    ev.truth, ev.model = truth, f"{model_id}, {ev.extra['folds']}-fold cross-validation{grouped}"
    ev.extra["note"] = (f"'{truth}' is what the classifier learnt from, so these are out-of-fold predictions "
                        "from the labels alone (few-shot, no prompts).")  # fmt: skip
    return ev


def evaluate_task(
    project: Project, view: TaskView, truth: str, *, model_id: str | None = None, mode: str = "auto", folds: int = 5,
    group_by: str | None = None,
) -> Evaluation:  # fmt: skip
    """:func:`evaluate_task_steps` run to the end."""
    steps = evaluate_task_steps(project, view, truth, model_id=model_id, mode=mode, folds=folds, group_by=group_by)
    return run_task(steps)


def image_groups(project: Project, image_ids: Sequence[int] | np.ndarray, column: str) -> list[str]:
    """The ``column`` label of each image (its own id where it has none: an unlabelled image is its own group)."""
    labels = project.labels.labels(column)
    if not labels:
        raise NoLabelsError(f"No image has a label in '{column}' to group by (give a label task such as 'specimen').")
    return [labels.get(int(i), f"#image{int(i)}") for i in image_ids]
