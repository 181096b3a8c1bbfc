"""Place new points on a stored map: :func:`place_points` (PCA by its stored arrays, UMAP by ``transform``).

For the watch-folder (new images appear after the map was drawn) and anyone who must not redraw a map that a
user has learnt to read. What it needs is kept with the map run (:mod:`micview.ml.maps`):

- PCA: ``pca_components`` (2 × d) and ``pca_mean`` (d) as run arrays — placing is one matrix product, no pickle.
- UMAP: the ids of the fit sample (``fit_ids``) as a run array, and the fitted reducer pickled in
  ``<project>.cache/umap-<sha>.pkl``. The pickle is a **cache**: it is unpickled only when its SHA-256 equals the
  one stored in the project with the run (so a swapped or damaged file is never loaded); when it is missing or
  does not match, the reducer is re-created by fitting again on the same sample with the same parameters and
  ``random_state`` (UMAP is deterministic then), and cached again.

Maps stored before these arrays existed are re-fitted on all the run's images the same way.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.store import Project
from micview.core.store.runs import RunInfo
from micview.ml.errors import ModelError


def place_points(project: Project, run: int | RunInfo, vectors: np.ndarray) -> np.ndarray:
    """Coordinates ``(m, 2)`` float32 of ``vectors`` ``(m, d)`` (same model as the map) on map run ``run``.

    Deterministic for PCA; for UMAP, ``transform`` places each point among its nearest fitted neighbours
    (the same call that placed every point outside the fit sample when the map was made). A first call in a
    process may take a few seconds (UMAP import, unpickling, or re-fitting when the cache is gone).
    """
    info = project.runs.get(run) if isinstance(run, int) else run
    if info.kind != "map":
        raise ValueError(f"run {info.id} is a {info.kind} run, not a map")
    vectors = np.atleast_2d(np.asarray(vectors, np.float32))
    if len(vectors) == 0:
        return np.zeros((0, 2), np.float32)
    if info.method == "pca":
        components, mean = _pca_arrays(project, info)
        if vectors.shape[1] != components.shape[1]:
            raise ModelError(f"vectors have {vectors.shape[1]} dimensions, the map's model {components.shape[1]}")
        from micview.ml.maps import pca_place

        return pca_place(vectors, components, mean)
    return np.asarray(reducer_for(project, info).transform(vectors), np.float32)


def _pca_arrays(project: Project, info: RunInfo) -> tuple[np.ndarray, np.ndarray]:
    try:
        return project.runs.load_array(info.id, "pca_components"), project.runs.load_array(info.id, "pca_mean")
    except KeyError:
        from micview.ml.maps import fit_map

        fitted = fit_map(_fit_vectors(project, info), "pca")
        return fitted.arrays["pca_components"], fitted.arrays["pca_mean"]


def reducer_path(project: Project, sha: str) -> Path:
    from micview.ml.ann import cache_dir

    return cache_dir(project.path) / f"umap-{sha[:32]}.pkl"


def cache_reducer(project: Project, run_id: int, blob: bytes) -> None:
    """Store the reducer's SHA-256 with the run and the pickle in the cache folder (best effort)."""
    sha = hashlib.sha256(blob).hexdigest()
    project.runs.save_array(run_id, "reducer_sha256", np.frombuffer(sha.encode(), np.uint8))
    path = reducer_path(project, sha)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only folder: the reducer is re-created when needed


def reducer_for(project: Project, info: RunInfo) -> Any:
    """The UMAP reducer of map run ``info``: the verified cache, else fitted again on the stored sample."""
    try:
        sha = bytes(project.runs.load_array(info.id, "reducer_sha256")).decode()
        blob = reducer_path(project, sha).read_bytes()
        if hashlib.sha256(blob).hexdigest() == sha:
            return pickle.loads(blob)  # our own cache, checked against the hash stored in the project
    except (KeyError, OSError, pickle.UnpicklingError):
        pass
    from micview.ml.maps import umap_reducer

    vectors = _fit_vectors(project, info)
    if len(vectors) < 3:
        raise ModelError("This map has fewer than 3 points; new points cannot be placed on it.")
    reducer = umap_reducer(info.params, len(vectors)).fit(vectors)
    if not project.read_only:
        cache_reducer(project, info.id, pickle.dumps(reducer, protocol=pickle.HIGHEST_PROTOCOL))
    return reducer


def _fit_vectors(project: Project, info: RunInfo) -> np.ndarray:
    """Current vectors of the images the map was fitted on (``fit_ids``, or all the run's ids)."""
    try:
        wanted = project.runs.load_array(info.id, "fit_ids")
    except KeyError:
        wanted = project.runs.load_array(info.id, "ids")
    ids, matrix = project.embeddings.for_images(info.model_id or "")
    rows = np.searchsorted(ids, wanted)
    ok = (rows < len(ids)) & (ids[np.minimum(rows, len(ids) - 1)] == wanted) if len(ids) else rows < 0
    return matrix[rows[ok]]
