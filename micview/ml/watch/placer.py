"""Placing new vectors on the stored maps of one model, keeping the reducer loaded between images.

PCA places by one matrix product (:func:`micview.ml.map_place.place_points`). UMAP's ``transform`` runs numba
code that holds the GIL — for a second or two the first time, for tens of seconds when numba compiles it —
which would freeze a window whose watch runs on a worker thread. With ``separate_process`` (the GUI's
choice) the UMAP reducer therefore lives in a spawned helper process that answers transform requests over
a pipe; the CLI places in its own process. Either way the reducer is loaded (or re-created) once, and warmed
up on one stored point before the first image arrives, so the first image is not the one that waits.

Every stored map of the model is kept growing (the newest run of each method the GUI shows), so switching
between PCA and UMAP never recomputes a map that would move the existing points.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.store import Project
from micview.core.store.runs import RunInfo
from micview.ml.errors import ModelError
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

    def __init__(self, project: Project, model_id: str, *, separate_process: bool = False) -> None:
        self.project, self.model_id = project, model_id
        self.separate_process = separate_process
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
        from micview.ml.map_place import place_points

        run = self.runs[method]
        if method != "umap":
            return place_points(self.project, run, vectors)
        if self._umap is None:
            self._umap = (
                _UmapProcess(self.project.path, run.id) if self.separate_process else _UmapHere(self.project, run)
            )
        return np.asarray(self._umap.transform(vectors), np.float32)

    def close(self) -> None:
        if isinstance(self._umap, _UmapProcess):
            self._umap.close()
        self._umap = None


class _UmapHere:
    def __init__(self, project: Project, run: RunInfo) -> None:
        from micview.ml.map_place import reducer_for

        self.reducer = reducer_for(project, run)

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(self.reducer.transform(np.asarray(vectors, np.float32)), np.float32)


def _serve(conn: Connection, project_path: str, run_id: int) -> None:
    """The helper process: load the reducer once, then answer ``vectors -> coordinates`` until told to stop."""
    from micview.core.reader_pool import exit_with_parent
    from micview.ml.map_place import reducer_for

    exit_with_parent()
    try:
        with Project.open(project_path) as project:
            reducer = reducer_for(project, project.runs.get(run_id))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while (vectors := conn.recv()) is not None:
        try:
            conn.send(("ok", np.asarray(reducer.transform(vectors), np.float32)))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _UmapProcess:
    def __init__(self, project_path: Path, run_id: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, str(project_path), run_id), daemon=True,
                                   name="micview-map-placer")  # fmt: skip
        self.process.start()
        child.close()
        self._answer()

    def _answer(self) -> Any:
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise ModelError("The process that places points on the UMAP map ended unexpectedly.") from exc
        if kind == "error":
            raise ModelError(f"New points cannot be placed on the UMAP map: {value}")
        return value

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        self.conn.send(np.asarray(vectors, np.float32))
        return np.asarray(self._answer(), np.float32)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(5.0)
        if self.process.is_alive():
            self.process.kill()
        self.conn.close()


def _vectors_of(project: Project, model_id: str, image_ids: np.ndarray) -> np.ndarray:
    from micview.ml.watch.vectors import vectors_of_images

    return vectors_of_images(project, model_id, image_ids)[1]
