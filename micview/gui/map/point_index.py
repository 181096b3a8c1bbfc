"""Image id <-> map row, and the point under the cursor, without per-point Python objects.

Why: the map's rows are image ids in the order the map was computed; the selection, search results and
colour columns speak in ids. Image ids are SQLite row ids, nearly consecutive, so a table indexed by id turns a
batch of ids into rows with one gather; sparse ids fall back to a sorted copy and ``searchsorted`` (a dict of a
million ints costs ~100 MB and a Python loop per lookup). Picking uses a KD-tree: pyqtgraph's ``pointsAt``
scans every point (~216 ms at 100k).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np


class RowIndex:
    """Rows of image ids in a map whose row ``i`` is image ``ids[i]``."""

    DENSE_SPAN = 4  # a table of up to 4 slots per point (16 bytes) rather than a search

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = np.asarray(ids, np.int64)
        self._low = int(self.ids.min()) if len(self.ids) else 0
        span = int(self.ids.max()) - self._low + 1 if len(self.ids) else 0
        self._table: np.ndarray | None = None
        self._order = self._sorted = np.zeros(0, np.int64)
        if 0 < span <= self.DENSE_SPAN * len(self.ids):
            self._table = np.full(span, -1, np.int32 if len(self.ids) < 2**31 else np.int64)
            self._table[self.ids - self._low] = np.arange(len(self.ids))
        else:
            self._order = np.argsort(self.ids, kind="stable")
            self._sorted = self.ids[self._order]

    def rows(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Rows of those ``ids`` that are on the map (unknown ids are skipped), in the order given."""
        found, rows = self.lookup(ids)
        kept: np.ndarray = rows[found]
        return kept

    def lookup(self, ids: Iterable[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(found, rows)`` for every id given: whether it is on the map, and its row (0 where not)."""
        wanted = _as_int_array(ids)
        if self._table is not None:
            slot = wanted - self._low
            inside = (slot >= 0) & (slot < len(self._table))
            rows = self._table[np.where(inside, slot, 0)].astype(np.int64)
            found = inside & (rows >= 0)
            return found, np.where(found, rows, 0)
        if not len(self._sorted):
            return np.zeros(len(wanted), np.bool_), np.zeros(len(wanted), np.int64)
        at = np.searchsorted(self._sorted, wanted).clip(0, len(self._sorted) - 1)
        found = self._sorted[at] == wanted
        return found, np.where(found, self._order[at], 0)

    def mask(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """A boolean per row: whether its image is among ``ids``."""
        mask = np.zeros(len(self.ids), np.bool_)
        mask[self.rows(ids)] = True
        return mask


def _as_int_array(ids: Iterable[int] | np.ndarray) -> np.ndarray:
    if isinstance(ids, np.ndarray):
        return ids.astype(np.int64, copy=False).ravel()
    if isinstance(ids, (tuple, list)):
        return np.fromiter(ids, np.int64, len(ids))
    return np.fromiter(ids, np.int64)


NEAREST_FIRST = 16  # neighbours the tree returns before the exactness check


class PointPicker:
    """Nearest point to a position within a radius in *screen pixels*, whatever the zoom and aspect."""

    EXTRA_MOST = 4096  # points added after the tree was built, searched one by one; more rebuild the tree

    def __init__(self, xy: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        self.xy = np.asarray(xy, np.float64).reshape(-1, 2)
        span = self.xy.max(axis=0) - self.xy.min(axis=0) if len(self.xy) else np.ones(2)
        self._scale = np.where(span > 0, span, 1.0)
        # an unbalanced tree builds ~2.5x faster at 1M points and answers as fast
        self._tree = cKDTree(self.xy / self._scale, balanced_tree=False) if len(self.xy) else None
        self._in_tree = len(self.xy)  # rows after this one are not in the tree

    def append(self, xy: np.ndarray) -> PointPicker:
        """This picker with points added after its rows: kept out of the tree (rebuilding it costs ~0.1 s per
        100k points) and searched one by one, until there are more than :data:`EXTRA_MOST` of them."""
        grown = np.concatenate([self.xy, np.asarray(xy, np.float64).reshape(-1, 2)])
        if self._tree is None or len(grown) - self._in_tree > self.EXTRA_MOST:
            return PointPicker(grown)
        picker = copy.copy(self)
        picker.xy = grown
        return picker

    def nearest(self, x: float, y: float, pixel: tuple[float, float], radius_px: float = 8.0) -> int | None:
        """Row of the point nearest to (x, y) on screen within ``radius_px``; ``pixel`` is the view's (dx, dy)
        per pixel. Exact whatever the view's aspect ratio: the tree's nearest few are checked on screen and,
        when a point beyond them could still be nearer on screen, every point within that reach is."""
        px = np.abs(np.asarray(pixel, np.float64))
        if self._tree is None or not np.all(px > 0):
            return None
        best, best_px = self._nearest_in_tree(x, y, px, radius_px)
        if len(self.xy) > self._in_tree:  # points added since the tree was built
            extra, extra_px = self._closest_on_screen(np.arange(self._in_tree, len(self.xy)), x, y, px)
            if best is None or extra_px < best_px:
                best, best_px = extra, extra_px
        return best if best is not None and best_px <= radius_px else None

    def _nearest_in_tree(self, x: float, y: float, px: np.ndarray, radius_px: float) -> tuple[int | None, float]:
        assert self._tree is not None
        per_px = px / self._scale  # tree units per screen pixel, per axis
        reach = radius_px * float(per_px.max())
        query = np.array([x, y]) / self._scale
        dist, rows = self._tree.query(query, k=NEAREST_FIRST, distance_upper_bound=reach)
        found = np.isfinite(dist)
        if not found.any():
            return None, np.inf
        best, best_px = self._closest_on_screen(rows[found], x, y, px)
        if found.all() and best_px > dist[-1] / per_px.max():  # one beyond the first few may be nearer on screen
            ball = self._tree.query_ball_point(query, min(reach, best_px * float(per_px.max())))
            if ball:
                best, best_px = self._closest_on_screen(np.asarray(ball, np.int64), x, y, px)
        return best, best_px

    def _closest_on_screen(self, rows: np.ndarray, x: float, y: float, px: np.ndarray) -> tuple[int, float]:
        d = (self.xy[rows] - (x, y)) / px
        dist = np.hypot(d[:, 0], d[:, 1])
        k = int(np.argmin(dist))
        return int(rows[k]), float(dist[k])
