"""Retraining as labels arrive: the GUI keeps one :class:`LiveClassifier` per (task, model) and calls
:meth:`LiveClassifier.update` from a worker after each labelling action.

Why not the full :func:`~micview.ml.classify.fewshot.fit_few_shot` each time: model selection runs 15
cross-validation fits. It is repeated only when the labels have changed enough to change the answer (a new
class, or 25 % more labels than at the last selection); in between, the chosen method is refitted with the
same parameters and temperature, which takes well under a second for 1,000 labels. The subspace logistic
regression fits in is computed once from all the images' vectors (:func:`~micview.ml.classify.fewshot.fit_basis`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from micview.ml.classify.fewshot import FewShotModel, fit_basis, fit_few_shot

RESELECT_GROWTH = 1.25


class LiveClassifier:
    """Few-shot classifier over fixed image vectors, refitted cheaply as labels change (not thread-safe)."""

    def __init__(self, image_ids: np.ndarray, X: np.ndarray, classes: list[str] | None = None) -> None:
        self.image_ids = np.asarray(image_ids, np.int64)
        self.X = X
        self.classes = list(classes or [])
        self.model: FewShotModel | None = None
        self._row = {int(i): r for r, i in enumerate(self.image_ids.tolist())}
        self._basis = fit_basis(X)
        self._selected_at = 0
        self._selected_classes: frozenset[str] = frozenset()

    def update(self, labels: Mapping[int, str]) -> np.ndarray | None:
        """Refit on ``labels`` and return ``(n_images, n_classes)`` scores in :attr:`classes` order.

        Returns ``None`` (and keeps no model) while fewer than two classes are labelled.
        """
        rows = [self._row[i] for i in labels if i in self._row]
        y = [labels[int(self.image_ids[r])] for r in rows]
        self.classes = list(dict.fromkeys([*self.classes, *sorted(set(y))]))
        if len(set(y)) < 2:
            self.model = None
            return None
        Xl = self.X[rows]
        if self._needs_selection(y):
            self.model = fit_few_shot(Xl, y, classes=self.classes, basis=self._basis)
            self._selected_at, self._selected_classes = len(y), frozenset(y)
        else:
            assert self.model is not None
            old = self.model
            self.model = fit_few_shot(Xl, y, classes=self.classes, method=old.method, params=old.params,
                                      calibrate=False, basis=self._basis, init=old)  # fmt: skip
            self.model.temperature, self.model.cv = old.temperature, old.cv
        return self.model.proba(self.X)

    def _needs_selection(self, y: list[str]) -> bool:
        return (
            self.model is None
            or set(y) != self._selected_classes
            or len(y) >= RESELECT_GROWTH * self._selected_at
            or self.model.classes != self.classes
        )
