"""A stored map that grows: new points placed on it later (watch mode), without moving any existing point.

A map run keeps the coordinates it was made with (``ids``, ``xy``: never rewritten). Points placed afterwards
with :func:`micview.ml.map_place.place_points` are kept beside them, in the same run, as ``added_ids`` and
``added_xy``; :func:`map_points` returns both together, and :func:`micview.ml.maps.cached_map` uses it, so the
GUI, ``micview map`` and ``export --map`` all see the grown map. Appending rewrites only the added arrays
(small), never the 16 MB of a million-point map.

FiftyOne warns when many points of a visualization were added by ``transform`` rather than fitted: those
points sit where the old map has room for them, and a region that is new in the data gets no room of its
own. :func:`added_fraction` measures it; above :data:`REFIT_ABOVE` the GUI and the CLI offer a refit.
"""

from __future__ import annotations

import numpy as np

from micview.core.store import Project
from micview.core.store.runs import RunInfo

REFIT_ABOVE = 0.2
_ADDED_IDS, _ADDED_XY = "added_ids", "added_xy"


def _added(project: Project, run_id: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        return project.runs.load_array(run_id, _ADDED_IDS), project.runs.load_array(run_id, _ADDED_XY)
    except KeyError:
        return np.zeros(0, np.int64), np.zeros((0, 2), np.float32)


def map_points(project: Project, run_id: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, xy)`` of map run ``run_id``: the fitted points, then those placed on it later."""
    ids, xy = project.runs.load_array(run_id, "ids"), project.runs.load_array(run_id, "xy")
    added_ids, added_xy = _added(project, run_id)
    if not len(added_ids):
        return ids, xy
    return np.concatenate([ids, added_ids]), np.concatenate([xy, added_xy]).astype(np.float32)


def add_points(project: Project, run_id: int, ids: np.ndarray, xy: np.ndarray) -> None:
    """Keep ``ids`` at ``xy`` on the map; ids already on it keep their place (existing points never move)."""
    ids = np.asarray(ids, np.int64)
    base = project.runs.load_array(run_id, "ids")
    added_ids, added_xy = _added(project, run_id)
    fresh = ~np.isin(ids, base) & ~np.isin(ids, added_ids)
    _, first = np.unique(ids, return_index=True)
    keep = np.zeros(len(ids), bool)
    keep[first] = True
    fresh &= keep
    if not fresh.any():
        return
    with project.transaction():
        project.runs.save_array(run_id, _ADDED_IDS, np.concatenate([added_ids, ids[fresh]]))
        xy32 = np.asarray(xy, np.float32).reshape(-1, 2)[fresh]
        project.runs.save_array(run_id, _ADDED_XY, np.concatenate([added_xy, xy32]))


def added_fraction(project: Project, run_id: int) -> float:
    """Share of the map's points that were placed after it was fitted (0 for a fresh map)."""
    base = len(project.runs.load_array(run_id, "ids"))
    added = len(_added(project, run_id)[0])
    return added / (base + added) if base + added else 0.0


def current_map(project: Project, model_id: str, method: str | None = None) -> RunInfo | None:
    """The newest finished map run of ``model_id`` (of ``method`` when given): the one new points go on."""
    runs = [
        r
        for r in project.runs.all("map")
        if r.model_id == model_id and r.status == "done" and (method is None or r.method == method)
    ]
    return runs[-1] if runs else None
