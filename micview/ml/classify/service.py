"""Classifying a project's images: the functions the CLI and the GUI call.

:func:`classify` is a generator task (yields :class:`~micview.core.tasks.Progress`, returns a
:class:`ClassifyResult`): it reads the stored vectors of one model, learns from the task's user labels
(few-shot, any model), scores the prompts (zero-shot, models with a text tower), combines both when both
exist, and stores one prediction per image with every class's score, under a run that keeps the recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from micview.core.store.annotations import Prediction
from micview.core.tasks import Progress, Task
from micview.ml.classify.combine import choose_weight, combine
from micview.ml.classify.errors import NoLabelsError, OneClassError
from micview.ml.classify.fewshot import FewShotModel, fit_basis, fit_few_shot
from micview.ml.classify.groups import TaskView
from micview.ml.classify.prompts import PromptSet, prompt_set_for
from micview.ml.classify.suggest import Suggestion, suggest
from micview.ml.errors import ModelError

if TYPE_CHECKING:
    from micview.core.store import Project


@dataclass
class ClassifyResult:
    task: str
    model_id: str
    method: str  # 'few-shot:<method>', 'zero-shot' or 'few-shot:<method>+zero-shot'
    classes: list[str]
    image_ids: np.ndarray
    proba: np.ndarray
    run_id: int
    n_labels: int = 0
    weight: float | None = None
    few_shot: FewShotModel | None = field(default=None, repr=False)

    def counts(self) -> dict[str, int]:
        pred = self.proba.argmax(1)
        return {c: int((pred == i).sum()) for i, c in enumerate(self.classes)}


def load_vectors(project: Project, model_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(image ids, unit vectors) of every embedded image; a message saying how to embed when there are none."""
    ids, X = project.embeddings.for_images(model_id)
    if len(ids) == 0:
        raise ModelError(
            f"No image of this project has {model_id} vectors yet; run `micview embed {project.path} "
            f"--model {model_id}` (micview classify does it for you)."
        )
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return ids, (X / np.maximum(norms, 1e-12)).astype(np.float32)


def labelled_rows(ids: np.ndarray, labels: dict[int, str]) -> tuple[np.ndarray, list[str]]:
    """Row indices into ``ids`` of the labelled images, and their labels (images without vectors skipped)."""
    rows = [i for i, image_id in enumerate(ids.tolist()) if image_id in labels]
    return np.asarray(rows, np.int64), [labels[int(ids[i])] for i in rows]


def _has_text(model_id: str) -> bool:
    from micview.ml.features import base_spec

    return base_spec(model_id).has_text


def classify(
    project: Project,
    view: TaskView,
    model_id: str,
    *,
    zero_shot: bool | None = None,
    prompts: PromptSet | None = None,
    method: str = "auto",
    embedder: Any = None,
    use_labels: bool = True,
    recipe: dict[str, Any] | None = None,
) -> Task[ClassifyResult]:
    """Predict ``view`` for every embedded image (see the module docstring).

    ``zero_shot``: ``None`` uses the prompts whenever the model has a text tower; ``False`` never;
    ``True`` requires it; ``use_labels=False`` ignores the labels (zero-shot only). Classes are the task's
    (defined or labelled), else the prompt set's. ``recipe`` adds entries to the stored run's parameters (e.g.
    how the model was chosen). Raises :class:`NoLabelsError`/:class:`OneClassError` when
    there is nothing to go on.
    """
    yield Progress(0, 3, "Reading vectors and labels")
    ids, X = load_vectors(project, model_id)
    labels = view.labels(project) if use_labels else {}
    rows, y = labelled_rows(ids, labels)
    use_zs = _has_text(model_id) if zero_shot is None else zero_shot
    classes = view.classes(project)
    zs_lp = None
    if use_zs:
        yield Progress(1, 3, "Scoring prompts")
        prompts = prompts or prompt_set_for(project, view.name, classes or None)
        classes = classes or [c for c in prompts.class_names if c not in view.exclude]
        zs_lp = _zero_shot_lp(model_id, X, prompts, classes, embedder)
    yield Progress(2, 3, "Training on your labels")
    model = _fit_or_none(X[rows], y, classes, method, can_skip=zs_lp is not None, view=view, model_id=model_id,
                         basis=fit_basis(X))  # fmt: skip
    proba, weight, how = _scores(model, X, zs_lp, rows, y, classes)
    run_id = _store(project, view, model_id, classes, ids, proba, model, how, weight, prompts if use_zs else None,
                    recipe or {})  # fmt: skip
    yield Progress(3, 3, "Done")
    return ClassifyResult(view.name, model_id, how, classes, ids, proba, run_id, len(y), weight, model)


def _zero_shot_lp(model_id: str, X: np.ndarray, prompts: PromptSet, classes: list[str], embedder: Any) -> np.ndarray:
    from micview.ml.classify.zeroshot import zero_shot
    from micview.ml.features import load_feature_embedder

    model = embedder or load_feature_embedder(model_id)
    _, p = zero_shot(model, X, prompts, classes)
    return np.asarray(np.log(np.maximum(p, 1e-300)), np.float64)


def _fit_or_none(
    X: np.ndarray,
    y: list[str],
    classes: list[str],
    method: str,
    *,
    can_skip: bool,
    view: TaskView,
    model_id: str,
    basis: Any = None,
) -> FewShotModel | None:
    if len(set(y)) >= 2:
        return fit_few_shot(X, y, classes=classes, method=method, basis=basis)
    if can_skip:
        return None
    if not y:
        raise NoLabelsError(
            f"Task '{view.source}' has no labels on images embedded with {model_id}, and {model_id} cannot "
            "classify from prompts (no text tower). Label a few images of each class first."
        )
    raise OneClassError(f"Only '{y[0]}' is labelled in task '{view.source}'; label some images of another class.")


def _scores(
    model: FewShotModel | None, X: np.ndarray, zs_lp: np.ndarray | None, rows: np.ndarray, y: list[str],
    classes: list[str],
) -> tuple[np.ndarray, float | None, str]:  # fmt: skip
    if model is None:
        assert zs_lp is not None
        return np.exp(zs_lp), None, "zero-shot"
    fs_lp = model.log_proba(X)
    if zs_lp is None:
        return np.exp(fs_lp), None, f"few-shot:{model.method}"
    yi = np.array([classes.index(c) for c in y])
    weight = choose_weight(model.oof_log_proba, zs_lp[rows], yi)
    return np.exp(combine(fs_lp, zs_lp, weight)), weight, f"few-shot:{model.method}+zero-shot"


def predictions(ids: np.ndarray, proba: np.ndarray, classes: list[str]) -> list[Prediction]:
    best = proba.argmax(1)
    return [
        Prediction(
            int(i), classes[b], round(float(p[b]), 6), {c: round(float(v), 6) for c, v in zip(classes, p, strict=True)}
        )
        for i, b, p in zip(ids.tolist(), best, proba, strict=True)
    ]


def _store(
    project: Project, view: TaskView, model_id: str, classes: list[str], ids: np.ndarray, proba: np.ndarray,
    model: FewShotModel | None, how: str, weight: float | None, prompts: PromptSet | None, recipe: dict[str, Any],
) -> int:  # fmt: skip
    params: dict[str, Any] = {**recipe,
        "task": view.name, "labels_from": view.source, "grouped": bool(view.groups),
        "exclude": sorted(view.exclude), "classes": classes, "combine_weight": weight,
        "few_shot": model.recipe() if model else None,
        "zero_shot": {"prompts": prompts.to_dict(), "logit_scale": 100.0} if prompts else None,
    }  # fmt: skip
    weights_hash = _weights_hash(project, model_id)
    with project.transaction():
        run_id = project.runs.record("classifier", f"classify:{view.name}", how, params, model_id=model_id,
                                     weights_hash=weights_hash)  # fmt: skip
        project.runs.save_array(run_id, "image_ids", ids)
        project.runs.save_array(run_id, "proba", proba.astype(np.float32))
        for name, arr in model.state.items() if model else []:
            project.runs.save_array(run_id, f"state_{name}", np.asarray(arr))
        project.labels.add_predictions(view.name, predictions(ids, proba, classes), model_id=model_id, run_id=run_id)
        _define(project, view, classes)
    return run_id


def _weights_hash(project: Project, model_id: str) -> str | None:
    info = project.runs.latest(f"embeddings:{model_id}")
    return info.weights_hash if info else None


def _define(project: Project, view: TaskView, classes: list[str]) -> None:
    t = project.labels.task(view.name)
    if t is None or not t.classes:
        desc = f"{view.source} grouped into {len(set(view.groups.values()))} groups" if view.groups else ""
        project.labels.define_task(view.name, classes, t.groups if t else None, t.description if t else desc)


def suggest_for_task(project: Project, view: TaskView, model_id: str, n: int = 20) -> list[Suggestion]:
    """The ``n`` images to label next for ``view``, each with the reason (the one strategy of CLI and GUI).

    Covers unlabelled regions of the data first, then the images the classifier trained on the current labels
    is least sure about, balanced across predicted classes (:mod:`micview.ml.classify.suggest`). Images the
    user labelled in the source task, even with a class the view leaves out (``other``), are never suggested.
    """
    ids, X = load_vectors(project, model_id)
    labels = view.labels(project)
    rows, y = labelled_rows(ids, labels)
    classes = view.classes(project)
    proba = None
    if len(set(y)) >= 2:
        model = fit_few_shot(X[rows], y, classes=classes, basis=fit_basis(X))
        proba, classes = model.proba(X), model.classes
    known: dict[int, str] = dict.fromkeys(project.labels.labels(view.source), "")
    known.update(labels)
    return suggest(ids, X, known, n, proba=proba, classes=classes or None)
