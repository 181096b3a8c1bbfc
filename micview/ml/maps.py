"""2-D maps of embeddings (UMAP, PCA) for the scatter view, cached in the project with their recipe.

PCA is instant and deterministic, so the GUI shows it at once; UMAP gives the better neighbourhoods but its
first import and fit compile numba code for tens of seconds while *holding the GIL*, which would freeze a
GUI thread. :func:`map_task` therefore runs UMAP in a separate (spawned) process and only waits for it, yielding
progress; cancelling terminates that process. Every map is stored as a run (``kind='map'``, key per model,
method and parameters) with the image ids it covers, and reused while the set of embedded images is unchanged.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.store import Project
from micview.core.tasks import Progress, Task

METHODS = ("umap", "pca")
DEFAULTS: dict[str, dict[str, Any]] = {
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine", "random_state": 42},
    "pca": {},
}
_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class MapResult:
    """Image ids and their 2-D coordinates (row ``i`` of ``xy`` is image ``ids[i]``), and where it is stored."""

    model_id: str
    method: str
    params: dict[str, Any]
    ids: np.ndarray
    xy: np.ndarray
    run_id: int | None
    cached: bool = False


def full_params(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    if method not in METHODS:
        raise ValueError(f"unknown map method {method!r}; choose one of {', '.join(METHODS)}")
    return {**DEFAULTS[method], **(params or {})}


def compute_map(vectors: np.ndarray, method: str = "umap", **params: Any) -> np.ndarray:
    """``(n, d)`` vectors → ``(n, 2)`` float32 coordinates. Tiny inputs (n < 3) get a trivial layout."""
    params = full_params(method, params)
    vectors = np.asarray(vectors, np.float32)
    n = len(vectors)
    if n < 3:
        return np.column_stack([np.arange(n), np.zeros(n)]).astype(np.float32)
    if method == "pca":
        return _pca(vectors)
    return _umap(vectors, params)


def _pca(vectors: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    solver = "randomized" if min(vectors.shape) > 200 else "full"
    xy = PCA(n_components=2, svd_solver=solver, random_state=0).fit_transform(vectors)
    return np.asarray(xy, np.float32)


def _umap(vectors: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    import umap

    n_neighbors = max(2, min(int(params["n_neighbors"]), len(vectors) - 1))
    reducer = umap.UMAP(n_components=2, **{**params, "n_neighbors": n_neighbors})
    return np.asarray(reducer.fit_transform(vectors), np.float32)


def map_key(model_id: str, method: str, params: dict[str, Any]) -> str:
    return f"map:{model_id}:{method}:{json.dumps(params, sort_keys=True)}"


def cached_map(project: Project, model_id: str, method: str, params: dict[str, Any] | None = None) -> MapResult | None:
    """The stored map for exactly these settings, if it still covers exactly the embedded images."""
    params = full_params(method, params)
    run = project.runs.latest(map_key(model_id, method, params))
    if run is None:
        return None
    ids, xy = project.runs.load_array(run.id, "ids"), project.runs.load_array(run.id, "xy")
    current, _ = project.embeddings.for_images(model_id)
    if not np.array_equal(np.sort(ids), np.sort(current)):
        return None
    return MapResult(model_id, method, params, ids, xy, run.id, cached=True)


def save_map(project: Project, result: MapResult) -> int:
    run_id = project.runs.record(
        "map", map_key(result.model_id, result.method, result.params), result.method, result.params,
        model_id=result.model_id,
    )  # fmt: skip
    project.runs.save_array(run_id, "ids", result.ids)
    project.runs.save_array(run_id, "xy", result.xy)
    return run_id


def _map_from_file(path: str, model_id: str, method: str, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Runs in the worker process: reads the vectors itself (no 100k × d array through a pipe)."""
    with Project.open(path) as project:
        ids, vectors = project.embeddings.for_images(model_id)
    return ids, compute_map(vectors, method, **params)


def map_task(
    project: Project,
    model_id: str,
    method: str = "umap",
    params: dict[str, Any] | None = None,
    *,
    in_process: bool | None = None,
) -> Task[MapResult]:
    """Get or compute the map of ``model_id``'s embeddings (a generator task).

    ``in_process`` (default: true for UMAP) computes in a spawned worker process that a cancel terminates.
    """
    params = full_params(method, params)
    yield Progress(0, 0, f"Looking for a stored {method.upper()} map")
    found = cached_map(project, model_id, method, params)
    if found is not None:
        return found
    if in_process is None:
        in_process = method == "umap"
    if in_process:
        ids, xy = yield from _in_process(project.path, model_id, method, params)
    else:
        ids, vectors = project.embeddings.for_images(model_id)
        yield Progress(0, 0, f"{method.upper()} of {len(ids)} images")
        xy = compute_map(vectors, method, **params)
    result = MapResult(model_id, method, params, ids, xy, None)
    return MapResult(model_id, method, params, ids, xy, save_map(project, result))


def _in_process(path: Path, model_id: str, method: str, params: dict[str, Any]) -> Task[tuple[np.ndarray, np.ndarray]]:
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        pending = pool.apply_async(_map_from_file, (str(path), model_id, method, params))
        start = time.monotonic()
        while not pending.ready():
            seconds = time.monotonic() - start
            yield Progress(0, 0, f"{method.upper()} in a worker process ({seconds:.0f} s; the first run compiles)")
            pending.wait(_POLL_S)
        return pending.get()  # type: ignore[no-any-return]
    finally:
        pool.terminate()  # also on cancel (GeneratorExit): the process stops at once
