"""MARCO scores for crystallization drops as they arrive, with the converted network kept loaded.

Scored with MARCO's exact preprocessing (:func:`micview.ml.marco.preprocess.load`) and stored like
``micview score`` stores them (task ``outcome``, a ``marco:<id>`` run with the weights hash), so a later
``micview score`` does not score these drops again. When MARCO is not installed the watch goes on without
it and says once how to add it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from micview.core.store import Project
from micview.core.store.annotations import Prediction
from micview.core.watch.arrival import Guess


class DropScorer:
    """Scores drop images with MARCO; :attr:`unavailable` says why it cannot (then it scores nothing)."""

    def __init__(self, project: Project, device: str | None = None) -> None:
        self.project, self.device = project, device
        self.unavailable = ""
        self._model: Any = None
        self._run_id: int | None = None

    def _load(self) -> Any:
        if self._model is None and not self.unavailable:
            from micview.ml.marco import MODEL_ID, MarcoError
            from micview.ml.marco.runtime import load_model
            from micview.ml.model_cache import shared

            try:
                self._model = shared().get("marco", MODEL_ID, lambda: load_model(MODEL_ID, self.device),
                                           self.device or "")  # fmt: skip
            except MarcoError as exc:
                self.unavailable = str(exc)
        return self._model

    def score(self, image_id: int, path: Path) -> Guess | None:
        """MARCO's best class and score for one drop (stored as a prediction of ``outcome``)."""
        model = self._load()
        if model is None:
            return None
        from micview.ml.marco import TASK
        from micview.ml.marco.preprocess import load

        probs, _ = model.run(load(path)[None])
        scores = {c: round(float(p), 6) for c, p in zip(model.classes, probs[0], strict=True)}
        best = model.classes[int(np.argmax(probs[0]))]
        pred = Prediction(image_id, best, scores[best], scores)
        self.project.labels.add_predictions(TASK, [pred], model_id=model.model_id, run_id=self._run(model))
        return Guess(TASK, best, scores[best], "marco")

    def _run(self, model: Any) -> int:
        if self._run_id is None:
            from micview.ml.marco import TASK

            params = {"task": TASK, "classes": list(model.classes), "device": model.device, "via": "watch",
                      "runtime": "onnxruntime", "preprocess": "centre square, TF1 bilinear 599, (x-0.5)*2"}  # fmt: skip
            self._run_id = self.project.runs.record("classification", f"marco:{model.model_id}", "marco_score",
                                                    params, model_id=model.model_id,
                                                    weights_hash=model.weights_hash)  # fmt: skip
        return self._run_id
