"""Plate wells over time while watching: a new time point joins its well, and each well's path on the map.

Plates come from file names (:mod:`micview.core.plates`, the pattern saved in the project); a new image whose
name parses joins its plate, well and drop at its time point. :class:`WellIndex` keeps every drop's time
points, parsed once at the start and updated per arrival (re-parsing a 100 000-image project per image
would cost seconds). :func:`trajectories` gives, per drop imaged at two or more time points, its points on the
map in time order: the line the map draws, coloured by score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from micview.core.plates import PATTERN_META, get_pattern, natural_key, parse_path
from micview.core.store import Project
from micview.core.store.annotations import MODEL

DropKey = tuple[str, str, str]  # (plate, well, drop)


@dataclass(frozen=True)
class Trajectory:
    """One drop over time: image ids in time order, their map coordinates ``(n, 2)`` and time labels."""

    plate: str
    well: str
    drop: str
    image_ids: np.ndarray
    xy: np.ndarray
    times: tuple[str, ...]


class WellIndex:
    """Every drop's time points (``(time, image id)``), from the project's plate pattern."""

    def __init__(self, pattern: str | None = None) -> None:
        self._rx = get_pattern(pattern).compiled()
        self.drops: dict[DropKey, list[tuple[str, int]]] = {}
        self.where: dict[int, tuple[DropKey, str]] = {}

    @classmethod
    def of_project(cls, project: Project) -> WellIndex:
        index = cls(project.get_meta(PATTERN_META))
        for row in project.images.all(status="ok"):
            index.add(row.id, row.path)
        return index

    def add(self, image_id: int, stored_path: str) -> tuple[DropKey, str] | None:
        """File the image under its drop and time; ``None`` when its name is not a plate drop's."""
        parsed = parse_path(stored_path, self._rx)
        if isinstance(parsed, str):
            return None
        key, time = (parsed[0], parsed[1], parsed[2]), parsed[3]
        points = [p for p in self.drops.get(key, []) if p[1] != image_id]
        self.drops[key] = sorted([*points, (time, image_id)], key=lambda p: (natural_key(p[0]), p[1]))
        self.where[image_id] = (key, time)
        return key, time

    def previous(self, image_id: int) -> int | None:
        """The image of the same drop at the latest earlier time point, if any."""
        if image_id not in self.where:
            return None
        key, time = self.where[image_id]
        earlier = [i for t, i in self.drops[key] if natural_key(t) < natural_key(time)]
        return earlier[-1] if earlier else None


def latest_prediction(project: Project, image_id: int, task: str, model_id: str | None = None) -> str | None:
    """The newest model prediction of ``task`` for one image (of ``model_id`` when given)."""
    for a in reversed(project.labels.history(image_id, task)):
        if a.source == MODEL and a.label is not None and (model_id is None or a.model_id == model_id):
            return str(a.label)
    return None


def trajectories(index: WellIndex, points: Mapping[int, tuple[float, float]]) -> list[Trajectory]:
    """Drops with two or more time points on the map, each as a :class:`Trajectory`."""
    out = []
    for (plate, well, drop), series in index.drops.items():
        placed = [(t, i) for t, i in series if i in points]
        if len(placed) >= 2:
            ids = np.array([i for _, i in placed], np.int64)
            xy = np.array([points[i] for _, i in placed], np.float32)
            out.append(Trajectory(plate, well, drop, ids, xy, tuple(t for t, _ in placed)))
    return out


def point_lookup(ids: Iterable[int], xy: np.ndarray) -> dict[int, tuple[float, float]]:
    """``{image id: (x, y)}`` from a map's arrays."""
    return {int(i): (float(p[0]), float(p[1])) for i, p in zip(ids, np.asarray(xy), strict=True)}
