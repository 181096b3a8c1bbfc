"""Predictions for images as they arrive: the task's classifier, kept fitted between images.

The same recipe as :func:`micview.ml.classify.classify` (the Classify tab and ``micview classify``): few-shot
from the task's user labels with any model (:func:`~micview.ml.classify.fit_few_shot`, model selection and
temperature included), zero-shot from the task's prompt set for CLIP-family models, and both combined with
the weight chosen on the labelled images when both exist. It is refitted only when the labels changed
(checked every few seconds), so an image costs one matrix product. The labelled vectors also give each new
image its nearest labelled neighbours and its distance to them (the ``far`` alert), with the distance only
5 % of the project's images exceed as the threshold of "far".

Predictions are stored in the task, each under a run that keeps the recipe (``kind='classifier'``).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np

from micview.core.store import Project
from micview.core.store.annotations import Prediction
from micview.core.watch.arrival import Guess, Neighbour
from micview.ml.watch.vectors import unit, vectors_of_images

FAR_QUANTILE = 0.95
_SAMPLE = 2000
_NEIGHBOURS = 3
_RECHECK_S = 3.0


class LivePredictor:
    """Guesses, neighbours and distance of new vectors for one task (``task=None``: neighbours only)."""

    def __init__(self, project: Project, task: str | None, model_id: str, embedder: Any = None) -> None:
        self.project, self.task, self.model_id, self.embedder = project, task, model_id, embedder
        self.method = ""
        self.run_id: int | None = None
        self.far_above: float | None = None
        self._signature = ""
        self._checked = float("-inf")
        self._labelled_ids = np.zeros(0, np.int64)
        self._labelled_X = np.zeros((0, 0), np.float32)
        self._labels: list[str] = []
        self._model: Any = None
        self._zs: np.ndarray | None = None  # class text vectors, in self.classes order
        self._weight: float | None = None
        self.classes: list[str] = []

    # -- keeping up with the labels -------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Refit when the task's labels changed (looked at every few seconds); true when it refitted."""
        if self.task is None or (not force and time.monotonic() - self._checked < _RECHECK_S):
            return False
        self._checked = time.monotonic()
        labels = self.project.labels.labels(self.task)
        signature = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()
        if signature == self._signature and not force:
            return False
        self._signature = signature
        ids, X = vectors_of_images(self.project, self.model_id, sorted(labels))
        self._labelled_ids, self._labelled_X = ids, unit(X) if len(ids) else X
        self._labels = [labels[int(i)] for i in ids]
        self._fit()
        self.far_above = self._far_threshold()
        return True

    def _fit(self) -> None:
        from micview.ml.classify import fit_few_shot

        self._model, self._zs, self._weight, self.method = None, None, None, ""
        task_classes = self.project.labels.task(self.task or "")
        classes = list(dict.fromkeys([*(task_classes.classes if task_classes else []), *sorted(set(self._labels))]))
        if len(set(self._labels)) >= 2:
            self._model = fit_few_shot(self._labelled_X, self._labels, classes=classes)
            classes = list(self._model.classes)
            self.method = f"few-shot:{self._model.method}"
        if self.embedder is not None and getattr(self.embedder, "has_text", False):
            self._zero_shot(classes)
        self.classes = classes
        if self.method:
            self.run_id = self._record()

    def _zero_shot(self, classes: list[str]) -> None:
        from micview.ml.classify.prompts import class_text_embeddings, prompt_set_for

        prompts = prompt_set_for(self.project, self.task or "", classes or None)
        classes[:] = classes or list(prompts.class_names)
        self._zs = class_text_embeddings(self.embedder, prompts, classes)
        if self._model is None:
            self.method = "zero-shot"
            return
        from micview.ml.classify.combine import choose_weight
        from micview.ml.classify.zeroshot import zero_shot_log_proba

        y = np.array([classes.index(c) for c in self._labels])
        self._weight = choose_weight(self._model.oof_log_proba, zero_shot_log_proba(self._labelled_X, self._zs), y)
        self.method += "+zero-shot"

    def _far_threshold(self) -> float | None:
        """The nearest-labelled distance that only 5 % of (a sample of) the project's images exceed.

        A labelled image's own label does not count (its nearest *other* labelled image does), so the threshold
        means something even when every image is labelled.
        """
        if len(self._labelled_ids) < 2:
            return None
        all_ids = [int(r[0]) for r in self.project.con.execute("SELECT id FROM images WHERE status = 'ok'")]
        rng = np.random.default_rng(0)
        sample = rng.choice(all_ids, min(_SAMPLE, len(all_ids)), replace=False) if all_ids else np.zeros(0, np.int64)
        ids, X = vectors_of_images(self.project, self.model_id, sample)
        if not len(X):
            return None
        sims = unit(X) @ self._labelled_X.T
        column = {int(i): k for k, i in enumerate(self._labelled_ids)}
        for row, image_id in enumerate(ids.tolist()):
            if image_id in column:
                sims[row, column[image_id]] = -np.inf
        return float(np.quantile(1.0 - sims.max(axis=1), FAR_QUANTILE))

    def _record(self) -> int:
        params: dict[str, Any] = {
            "task": self.task, "labels": len(self._labels), "classes": self.classes, "combine_weight": self._weight,
            "few_shot": self._model.recipe() if self._model is not None else None, "via": "watch",
        }  # fmt: skip
        return self.project.runs.record("classifier", f"watch-classify:{self.task}", self.method, params,
                                        model_id=self.model_id)  # fmt: skip

    # -- per image ----------------------------------------------------------------------------------------
    def proba(self, X: np.ndarray) -> np.ndarray | None:
        """``(n, n_classes)`` scores in :attr:`classes` order, or ``None`` with nothing to predict from."""
        from micview.ml.classify.zeroshot import zero_shot_log_proba

        X = unit(X)
        zs = zero_shot_log_proba(X, self._zs) if self._zs is not None else None
        if self._model is None:
            return np.exp(zs) if zs is not None else None
        if zs is None or self._weight is None:
            return np.asarray(self._model.proba(X))
        from micview.ml.classify.combine import combine

        return np.asarray(np.exp(combine(self._model.log_proba(X), zs, self._weight)))

    def guesses(self, image_ids: np.ndarray, X: np.ndarray) -> list[Guess | None]:
        """One guess per row (stored as a prediction of the task), ``None`` where nothing can be predicted."""
        proba = self.proba(X) if len(X) else None
        if proba is None or self.task is None:
            return [None] * len(X)
        preds = [
            Prediction(int(i), self.classes[int(p.argmax())], round(float(p.max()), 6),
                       {c: round(float(v), 6) for c, v in zip(self.classes, p, strict=True)})
            for i, p in zip(image_ids, proba, strict=True)
        ]  # fmt: skip
        self.project.labels.add_predictions(self.task, preds, model_id=self.model_id, run_id=self.run_id)
        return [Guess(self.task, p.label, float(p.score or 0.0), self.method) for p in preds]

    def neighbours(self, X: np.ndarray) -> list[tuple[tuple[Neighbour, ...], float | None]]:
        """Per row: its nearest labelled images (best first) and the cosine distance to the nearest."""
        if not len(self._labelled_ids) or not len(X):
            return [((), None)] * len(X)
        sims = unit(X) @ self._labelled_X.T
        out: list[tuple[tuple[Neighbour, ...], float | None]] = []
        for row in sims:
            top = np.argsort(-row)[:_NEIGHBOURS]
            near = tuple(
                Neighbour(int(self._labelled_ids[k]), self._name(int(self._labelled_ids[k])), self._labels[k],
                          round(float(row[k]), 4))
                for k in top
            )  # fmt: skip
            out.append((near, round(float(1.0 - row[top[0]]), 4)))
        return out

    def _name(self, image_id: int) -> str:
        row = self.project.con.execute("SELECT name FROM images WHERE id = ?", (image_id,)).fetchone()
        return str(row[0]) if row else str(image_id)
