"""Which points a box or a lasso holds, exactly, fast enough for a million points.

Why a grid: the even-odd ray cast costs (points x edges); a hand-drawn lasso has hundreds of edges. The
polygon's bounding box is cut into cells; a cell that no edge passes through (nor its 8 neighbours) lies wholly
inside or outside, so its points take the status of its centre. Only points in cells along the outline are
tested one by one, each against the few edges at its height. The answer equals the brute-force ray cast over
every point (tests check it at 1M points): grid cells only decide points that are at least one cell away from
every edge.
"""

from __future__ import annotations

import numpy as np

GRID = 256  # cells per side of the lasso's bounding box
DIRECT_BELOW = 4_096  # candidates tested directly below this (the grid costs more than it saves)


def points_in_rect(x: np.ndarray, y: np.ndarray, corner0: np.ndarray, corner1: np.ndarray) -> np.ndarray:
    """Mask of the points (``x``, ``y``) inside the axis-aligned box between two corners, edges included."""
    lo, hi = np.minimum(corner0, corner1), np.maximum(corner0, corner1)
    mask: np.ndarray = x >= lo[0]
    mask &= x <= hi[0]
    mask &= y >= lo[1]
    mask &= y <= hi[1]
    return mask


def is_axis_rect(polygon: np.ndarray) -> bool:
    """Whether ``polygon`` is the 4-corner axis-aligned box the Box tool draws."""
    if len(polygon) != 4:
        return False
    x, y = polygon[:, 0], polygon[:, 1]
    return bool(x[0] == x[3] and x[1] == x[2] and y[0] == y[1] and y[2] == y[3])


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``xy`` (``(n, 2)``) inside ``polygon``; see :func:`in_polygon`."""
    xy = np.asarray(xy)
    return in_polygon(xy[:, 0], xy[:, 1], polygon)


def in_polygon(x: np.ndarray, y: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Mask of the points inside ``polygon`` (``(k, 2)``, closed implicitly; even-odd rule).

    An axis-aligned box (the Box tool) includes its edges; any other polygon follows :func:`ray_cast`, which
    puts a point exactly on an edge on one side or the other.
    """
    polygon = np.asarray(polygon, np.float64).reshape(-1, 2)
    inside = np.zeros(len(x), np.bool_)
    if len(polygon) < 3 or not len(x):
        return inside
    lo, hi = polygon.min(axis=0), polygon.max(axis=0)
    if is_axis_rect(polygon):
        return points_in_rect(x, y, lo, hi)
    cand = np.flatnonzero(points_in_rect(x, y, lo, hi))
    cx, cy = x[cand].astype(np.float64), y[cand].astype(np.float64)
    if len(cand) < DIRECT_BELOW:
        inside[cand[ray_cast(cx, cy, polygon)]] = True
    else:
        inside[cand[_grid_test(cx, cy, polygon, lo, hi)]] = True
    return inside


def ray_cast(x: np.ndarray, y: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """The brute-force even-odd test of every point against every edge (the reference the fast path equals)."""
    hit = np.zeros(len(x), np.bool_)
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        hit ^= crosses & (x < x_at)
    return hit


def _grid_test(x: np.ndarray, y: np.ndarray, polygon: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    cell = np.where(hi > lo, hi - lo, 1.0) / GRID
    ix = np.clip(((x - lo[0]) / cell[0]).astype(np.int32), 0, GRID - 1)
    iy = np.clip(((y - lo[1]) / cell[1]).astype(np.int32), 0, GRID - 1)
    flat = iy * GRID + ix
    result: np.ndarray = _centre_status(polygon, lo, cell).ravel()[flat]
    rows = np.flatnonzero(_outline_cells(polygon, lo, cell).ravel()[flat])
    result[rows] = _ray_cast_sorted(x[rows], y[rows], polygon)
    return result


def _outline_cells(polygon: np.ndarray, lo: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Cells an edge passes through, grown by one cell on every side (so nothing near an edge escapes)."""
    a, b = polygon, np.roll(polygon, -1, axis=0)
    steps = np.ceil(np.max(np.abs(b - a) / cell, axis=1) * 2).astype(np.int64) + 1  # < half a cell apart
    owner = np.repeat(np.arange(len(a)), steps)
    t = (np.arange(len(owner)) - np.repeat(np.cumsum(steps) - steps, steps)) / np.repeat(steps - 1, steps).clip(1)
    samples = a[owner] + (b[owner] - a[owner]) * t[:, None]
    cx = np.clip(((samples[:, 0] - lo[0]) / cell[0]).astype(np.int64), 0, GRID - 1)
    cy = np.clip(((samples[:, 1] - lo[1]) / cell[1]).astype(np.int64), 0, GRID - 1)
    marked = np.zeros((GRID + 2, GRID + 2), np.bool_)
    marked[cy + 1, cx + 1] = True
    grown = np.zeros_like(marked)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            grown[1:-1, 1:-1] |= marked[1 + dy : GRID + 1 + dy, 1 + dx : GRID + 1 + dx]
    return grown[1:-1, 1:-1]


def _centre_status(polygon: np.ndarray, lo: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Even-odd status of every cell centre, row by row: count the edge crossings right of each centre."""
    xc = lo[0] + (np.arange(GRID) + 0.5) * cell[0]
    yc = lo[1] + (np.arange(GRID) + 0.5) * cell[1]
    (x0, y0), (x1, y1) = polygon.T, np.roll(polygon, -1, axis=0).T
    crosses = (y0[None, :] > yc[:, None]) != (y1[None, :] > yc[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (yc[:, None] - y0) * (x1 - x0) / (y1 - y0)
    x_at = np.sort(np.where(crosses, x_at, -np.inf), axis=1)
    status = np.empty((GRID, GRID), np.bool_)
    for r in range(GRID):
        right = x_at.shape[1] - np.searchsorted(x_at[r], xc, side="right")
        status[r] = right % 2 == 1
    return status


def _ray_cast_sorted(x: np.ndarray, y: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """:func:`ray_cast`, testing each edge only against the points at its height (points sorted by y)."""
    order = np.argsort(y, kind="stable")
    x, y = x[order], y[order]
    hit = np.zeros(len(x), np.bool_)
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        # (y0 > y) != (y1 > y) holds exactly for min(y0, y1) <= y < max(y0, y1)
        start, stop = np.searchsorted(y, min(y0, y1), "left"), np.searchsorted(y, max(y0, y1), "left")
        if stop <= start:
            continue
        ys, xs = y[start:stop], x[start:stop]
        crosses = (y0 > ys) != (y1 > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (ys - y0) * (x1 - x0) / (y1 - y0)
        hit[start:stop] ^= crosses & (xs < x_at)
    result = np.empty(len(x), np.bool_)
    result[order] = hit
    return result
