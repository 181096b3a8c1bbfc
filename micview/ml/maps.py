"""2-D maps of embeddings (UMAP, PCA) for the scatter view, cached in the project with their recipe.

PCA is instant and deterministic, so the GUI shows it at once; UMAP gives the better neighbourhoods but its
first import and fit compile numba code for tens of seconds while *holding the GIL*, which would freeze a
GUI thread. :func:`map_task` therefore runs UMAP in a separate (spawned) process and only waits for it, yielding
progress; cancelling terminates that process. Every map is stored as a run (``kind='map'``, key per model,
method and parameters) with the image ids it covers, and reused while the set of embedded images is unchanged.

Large projects: UMAP is fitted on a random sample of ``fit_sample`` vectors (50 000 by default) and every
other vector is placed with the fitted reducer's ``transform``; the fit and placement times are stored with
the run. What is needed to place *new* points later is kept with the run too (:mod:`micview.ml.map_place`):
PCA's components and mean as plain arrays, UMAP's fit-sample ids as an array plus the pickled reducer as a
re-creatable cache file beside the project — the coordinates themselves are always run arrays.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.store import Project
from micview.core.tasks import Progress, Task

METHODS = ("umap", "pca")
DEFAULTS: dict[str, dict[str, Any]] = {
    "umap": {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine", "random_state": 42, "fit_sample": 50_000},
    "pca": {},
}
_TRANSFORM_CHUNK = 50_000
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
    fit_seconds: float = 0.0
    place_seconds: float = 0.0  # UMAP: ``transform`` of the vectors outside the fit sample


@dataclass(slots=True)
class FittedMap:
    """A map and what places new points on it: ``arrays`` (stored with the run) and the UMAP reducer's pickle."""

    xy: np.ndarray
    arrays: dict[str, np.ndarray]
    reducer_pickle: bytes | None = None
    fit_seconds: float = 0.0
    place_seconds: float = 0.0


def full_params(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    if method not in METHODS:
        raise ValueError(f"unknown map method {method!r}; choose one of {', '.join(METHODS)}")
    return {**DEFAULTS[method], **(params or {})}


def compute_map(vectors: np.ndarray, method: str = "umap", **params: Any) -> np.ndarray:
    """``(n, d)`` vectors → ``(n, 2)`` float32 coordinates. Tiny inputs (n < 3) get a trivial layout."""
    return fit_map(vectors, method, params).xy


def fit_map(
    vectors: np.ndarray, method: str, params: dict[str, Any] | None = None, ids: np.ndarray | None = None
) -> FittedMap:
    """Coordinates of ``vectors`` plus what :func:`micview.ml.map_place.place_points` needs later.

    ``ids`` (image ids of the rows) are recorded as the UMAP fit sample, so the reducer can be re-created.
    """
    params = full_params(method, params)
    vectors = np.asarray(vectors, np.float32)
    n = len(vectors)
    ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, np.int64)
    if n < 3:
        return FittedMap(np.column_stack([np.arange(n), np.zeros(n)]).astype(np.float32), {})
    if method == "pca":
        return _pca(vectors)
    return _umap(vectors, params, ids)


def _pca(vectors: np.ndarray) -> FittedMap:
    from sklearn.decomposition import PCA

    start = time.perf_counter()
    solver = "randomized" if min(vectors.shape) > 200 else "full"
    pca = PCA(n_components=2, svd_solver=solver, random_state=0).fit(vectors)
    components, mean = pca.components_.astype(np.float32), pca.mean_.astype(np.float32)
    xy = pca_place(vectors, components, mean)
    return FittedMap(xy, {"pca_components": components, "pca_mean": mean}, None, time.perf_counter() - start)


def pca_place(vectors: np.ndarray, components: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """PCA's transform without sklearn: ``(v − mean) · componentsᵀ``, float32."""
    return np.asarray((np.asarray(vectors, np.float32) - mean) @ components.T, np.float32)


def umap_reducer(params: dict[str, Any], n_fit: int) -> Any:
    import umap

    kwargs = {k: v for k, v in params.items() if k != "fit_sample"}
    if kwargs.get("random_state") is not None:
        kwargs.setdefault("n_jobs", 1)  # what umap does anyway with a seed (deterministic), without its warning
    kwargs["n_neighbors"] = max(2, min(int(kwargs["n_neighbors"]), n_fit - 1))
    return umap.UMAP(n_components=2, **kwargs)


def fit_rows(n: int, params: dict[str, Any]) -> np.ndarray:
    """The rows UMAP is fitted on: all of them, or a sorted random sample of ``fit_sample`` rows."""
    limit = int(params.get("fit_sample") or n)
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(params.get("random_state")).choice(n, limit, replace=False))


def _umap(vectors: np.ndarray, params: dict[str, Any], ids: np.ndarray) -> FittedMap:
    import pickle

    rows = fit_rows(len(vectors), params)
    reducer = umap_reducer(params, len(rows))
    start = time.perf_counter()
    xy = np.empty((len(vectors), 2), np.float32)
    xy[rows] = reducer.fit_transform(vectors[rows])
    fitted = time.perf_counter()
    rest = np.setdiff1d(np.arange(len(vectors)), rows)
    for s in range(0, len(rest), _TRANSFORM_CHUNK):
        chunk = rest[s : s + _TRANSFORM_CHUNK]
        xy[chunk] = reducer.transform(vectors[chunk])
    placed = time.perf_counter()
    blob = pickle.dumps(reducer, protocol=pickle.HIGHEST_PROTOCOL)
    return FittedMap(xy, {"fit_ids": ids[rows]}, blob, fitted - start, placed - fitted)


def map_key(model_id: str, method: str, params: dict[str, Any]) -> str:
    return f"map:{model_id}:{method}:{json.dumps(params, sort_keys=True)}"


def cached_map(project: Project, model_id: str, method: str, params: dict[str, Any] | None = None) -> MapResult | None:
    """The stored map for exactly these settings, if it still covers exactly the embedded images."""
    params = full_params(method, params)
    run = project.runs.latest(map_key(model_id, method, params))
    if run is None:
        return None
    from micview.ml.map_growth import map_points

    ids, xy = map_points(project, run.id)  # with the points placed on it later (watch mode)
    current, _ = project.embeddings.for_images(model_id)
    if not np.array_equal(np.sort(ids), np.sort(current)):
        return None
    timing = json.loads(run.notes or "{}")
    fit_s, place_s = float(timing.get("fit_s", 0.0)), float(timing.get("place_s", 0.0))
    return MapResult(model_id, method, params, ids, xy, run.id, True, fit_s, place_s)


def save_map(project: Project, result: MapResult, fitted: FittedMap | None = None) -> int:
    """Record the map run: coordinates and placement arrays in the project, the UMAP reducer in the cache."""
    from micview.ml.map_place import cache_reducer

    timing = {"fit_s": round(result.fit_seconds, 3), "place_s": round(result.place_seconds, 3)}
    run_id = project.runs.record(
        "map", map_key(result.model_id, result.method, result.params), result.method, result.params,
        model_id=result.model_id, notes=json.dumps(timing),
    )  # fmt: skip
    project.runs.save_array(run_id, "ids", result.ids)
    project.runs.save_array(run_id, "xy", result.xy)
    for name, array in (fitted.arrays if fitted else {}).items():
        project.runs.save_array(run_id, name, array)
    if fitted is not None and fitted.reducer_pickle is not None:
        cache_reducer(project, run_id, fitted.reducer_pickle)
    return run_id


def _map_from_file(path: str, model_id: str, method: str, params: dict[str, Any]) -> tuple[np.ndarray, FittedMap]:
    """Runs in the worker process: reads the vectors itself (no 100k × d array through a pipe)."""
    with Project.open(path) as project:
        ids, vectors = project.embeddings.for_images(model_id)
    return ids, fit_map(vectors, method, params, ids)


def map_task(
    project: Project,
    model_id: str,
    method: str = "umap",
    params: dict[str, Any] | None = None,
    *,
    in_process: bool | None = None,
    refit: bool = False,
) -> Task[MapResult]:
    """Get or compute the map of ``model_id``'s embeddings (a generator task).

    ``in_process`` (default: true for UMAP) computes in a spawned worker process that a cancel terminates.
    ``refit`` computes a new map even when a stored one covers every image (e.g. many were placed later).
    """
    params = full_params(method, params)
    yield Progress(0, 0, f"Looking for a stored {method.upper()} map")
    found = None if refit else cached_map(project, model_id, method, params)
    if found is not None:
        return found
    if in_process is None:
        in_process = method == "umap"
    if in_process:
        ids, fitted = yield from _in_process(project.path, model_id, method, params)
    else:
        ids, vectors = project.embeddings.for_images(model_id)
        yield Progress(0, 0, f"{method.upper()} of {len(ids)} images")
        fitted = fit_map(vectors, method, params, ids)
    result = MapResult(model_id, method, params, ids, fitted.xy, None, False, fitted.fit_seconds, fitted.place_seconds)
    if project.read_only:  # browsing a read-only project still gets its map; it is just not stored
        return result
    return replace(result, run_id=save_map(project, result, fitted))


def _in_process(path: Path, model_id: str, method: str, params: dict[str, Any]) -> Task[tuple[np.ndarray, FittedMap]]:
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        pending = pool.apply_async(_map_from_file, (str(path), model_id, method, params))
        start = time.monotonic()
        while not pending.ready():
            seconds = time.monotonic() - start
            yield Progress(0, 0, f"{method.upper()} in a worker process ({seconds:.0f} s; the first run compiles)")
            pending.wait(_POLL_S)
        return pending.get()
    finally:
        pool.terminate()  # also on cancel (GeneratorExit): the process stops at once
