"""Placing new vectors on the stored maps of one model, keeping the reducer loaded between images.

PCA places by one matrix product (:func:`micview.ml.map_place.place_points`); UMAP by its fitted reducer's
``transform`` (loaded, or re-created from the stored fit sample, once). UMAP's numba code holds the GIL for a
second or two the first time (tens of seconds when numba compiles it), which is why the window runs the whole
watch in a helper process (:mod:`micview.ml.watch.helper`). The reducer is warmed up on one stored point
before the first image arrives, so the first image is not the one that waits.

Every stored map of the model is kept growing (the newest run of each method the GUI shows), so switching
between PCA and UMAP never recomputes a map that would move the existing points.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from micview.core.store import Project
from micview.core.store.runs import RunInfo
from micview.ml.map_growth import add_points, map_points
from micview.ml.maps import METHODS, full_params, map_key


def maps_of(project: Project, model_id: str) -> dict[str, RunInfo]:
    """The runs new points go on: the newest map of each method with default settings (what the GUI shows)."""
    out = {}
    for method in METHODS:
        run = project.runs.latest(map_key(model_id, method, full_params(method)))
        if run is not None:
            out[method] = run
    return out


class Placer:
    """Places vectors of ``model_id`` on its stored maps and records them there (never moving old points)."""

    def __init__(self, project: Project, model_id: str) -> None:
        self.project, self.model_id = project, model_id
        self.runs = maps_of(project, model_id)
        self._umap: Any = None

    def warm_up(self) -> None:
        """Load the UMAP reducer and run it once on a stored point (compiles numba now, not on an image)."""
        run = self.runs.get("umap")
        if run is None:
            return
        ids, _ = map_points(self.project, run.id)
        vectors = _vectors_of(self.project, self.model_id, ids[:1])
        if len(vectors):
            self._place("umap", vectors)

    def place(self, image_ids: np.ndarray, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """``{method: (m, 2) coordinates}`` of the vectors on each map, stored with the map run."""
        out = {}
        for method, run in self.runs.items():
            xy = self._place(method, vectors)
            add_points(self.project, run.id, image_ids, xy)
            out[method] = xy
        return out

    def _place(self, method: str, vectors: np.ndarray) -> np.ndarray:
        from micview.ml.map_place import place_points, reducer_for

        run = self.runs[method]
        if method != "umap":
            return place_points(self.project, run, vectors)
        if self._umap is None:
            self._umap = reducer_for(self.project, run)
        return np.asarray(self._umap.transform(np.asarray(vectors, np.float32)), np.float32)

    def close(self) -> None:
        self._umap = None


def _vectors_of(project: Project, model_id: str, image_ids: np.ndarray) -> np.ndarray:
    from micview.ml.watch.vectors import vectors_of_images

    return vectors_of_images(project, model_id, image_ids)[1]
