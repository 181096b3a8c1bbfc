"""The zoomed-out picture of a map: its points binned on a screen-aligned grid, one colour per bin.

Why (datashader's approach, in numpy): past a few tens of thousands of points in view, sprites overdraw each
other and cost time per point; a bin per 2x2 device pixels shows the same picture at a fixed cost. A bin takes
the colour of the class most of its labelled points have (unlabelled points only colour bins with no labelled
point, so a few labels among a million points still show), or the mean of a numeric column; its opacity grows
with the log of its count. Majority needs a count per (bin, colour): one ``bincount`` of a combined key over
the palette's colours (at most ~25), not one pass per class. What does not depend on the colours (each point's
bin, each bin's count and opacity) is kept per view (:class:`Binned`), so a recolour costs that one count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QTransform

from micview.gui.map.colouring import RAMP_STEPS, Colouring

BIN_PX = 2  # device pixels per bin side
MIN_ALPHA = 0.5  # opacity of a bin holding one point (the fullest bin is opaque)


@dataclass(frozen=True)
class Grid:
    """Bins of ``size`` logical pixels covering the view; bin (0, 0) sits at device (``u0``, ``v0``).

    ``x0``/``y0`` are the data coordinates of the grid's top-left corner and ``sx``/``sy`` bins per data unit
    (``sy`` counts downwards, as screen rows do).
    """

    u0: float
    v0: float
    w: int
    h: int
    size: float
    x0: float
    y0: float
    sx: float
    sy: float

    @classmethod
    def over(cls, view: QRectF, transform: QTransform, size: float) -> Grid | None:
        """The grid over ``view`` (data coordinates) as ``transform`` (data -> device, no rotation) draws it."""
        device = transform.mapRect(view)
        u0, v0 = np.floor(device.left()), np.floor(device.top())
        w, h = int(np.ceil((device.right() - u0) / size)), int(np.ceil((device.bottom() - v0) / size))
        inverse, ok = transform.inverted()
        if not ok or w <= 0 or h <= 0 or transform.m11() == 0 or transform.m22() == 0:
            return None
        corner = inverse.map(QPointF(float(u0), float(v0)))
        sx, sy = transform.m11() / size, -transform.m22() / size
        return cls(float(u0), float(v0), w, h, size, corner.x(), corner.y(), sx, sy)

    @property
    def n(self) -> int:
        return self.w * self.h

    @property
    def device_rect(self) -> QRectF:
        return QRectF(self.u0, self.v0, self.w * self.size, self.h * self.size)

    def bins(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat bin of each point; ``n`` (one past the last) for points outside the grid."""
        fx = (x - np.float32(self.x0)) * np.float32(self.sx)
        fy = (np.float32(self.y0) - y) * np.float32(self.sy)
        ix, iy = np.floor(fx), np.floor(fy)
        outside = (ix < 0) | (ix >= self.w) | (iy < 0) | (iy >= self.h)
        flat: np.ndarray = iy.astype(np.int64) * self.w + ix.astype(np.int64)
        flat[outside] = self.n
        return flat


class Binned:
    """Every row's bin on one grid, with what of the picture does not depend on the colours: each bin's count
    and opacity, and the bins that hold points. Kept across recolours: only a new view (or new points)
    computes it again."""

    def __init__(self, grid: Grid, bins: np.ndarray) -> None:
        self.grid, self.bins = grid, bins
        self.total = np.bincount(bins, minlength=grid.n + 1)[: grid.n]
        top = max(int(self.total.max()), 1) if grid.n else 1
        alpha = MIN_ALPHA + (1 - MIN_ALPHA) * np.log1p(self.total) / np.log1p(top)
        self.alpha = np.where(self.total > 0, np.rint(alpha * 255), 0).astype(np.uint8)
        self._occupied: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, grid: Grid, x: np.ndarray, y: np.ndarray) -> Binned:
        return cls(grid, grid.bins(x, y))

    def appended(self, x: np.ndarray, y: np.ndarray) -> Binned:
        """With points added after the rows binned here."""
        return Binned(self.grid, np.concatenate([self.bins, self.grid.bins(x, y)]))

    def occupied(self) -> tuple[np.ndarray, np.ndarray]:
        """``(flat, dense)``: the bins holding points (ascending), and each row's position among them
        (``len(flat)`` for rows outside the grid). A zoomed-out map of a million points fills a third of its
        bins: counting per (occupied bin, colour) keeps the table small."""
        if self._occupied is None:
            flat = np.flatnonzero(self.total)
            position = np.full(self.grid.n + 1, len(flat), np.intp)
            position[flat] = np.arange(len(flat))
            self._occupied = flat, position[self.bins]
        return self._occupied


class ColourIndex:
    """A colouring's distinct colours (``palette``) and each row's colour among them (kept while the colouring
    lasts); ``none`` is the colour of "no value"."""

    def __init__(self, colouring: Colouring) -> None:
        palette, per_code = np.unique(colouring.lut, axis=0, return_inverse=True)
        per_code = per_code.reshape(-1).astype(np.intp)
        self.palette = palette  # (c, 4) distinct colours
        self.none = int(per_code[colouring.none])
        self.colour = per_code[colouring.codes]
        self._order: tuple[np.ndarray, np.ndarray] | None = None

    def order(self) -> tuple[np.ndarray, np.ndarray]:
        """``(order, starts)``: rows ``order[starts[c]:starts[c + 1]]`` have colour ``c``."""
        if self._order is None:
            order = np.argsort(self.colour.astype(np.uint8), kind="stable")  # a radix sort: a few ms at 1M
            self._order = order, np.searchsorted(self.colour[order], np.arange(len(self.palette) + 1))
        return self._order


COUNTS_MOST = 4_000_000  # (bin, colour) counts counted in one pass; more are counted colour by colour


def categorical_image(binned: Binned, colours: ColourIndex) -> np.ndarray:
    """``(h, w, 4)`` RGBA: each bin in the colour most of its labelled points have (ties: the first colour),
    opacity by count; a bin without labelled points in the "no value" colour.

    The counts per (occupied bin, colour) come from one ``bincount`` of ``bin * colours + colour`` while that
    table is small (2.7 ms at 1M points), else from one ``bincount`` per colour over the rows sorted by colour."""
    grid, k = binned.grid, len(colours.palette)
    flat, dense = binned.occupied()
    if (len(flat) + 1) * k > COUNTS_MOST:
        return _shade(colours.palette[_majority_by_colour(binned, colours)], binned)
    key = dense * k
    key += colours.colour
    counts = np.bincount(key, minlength=(len(flat) + 1) * k)[: len(flat) * k].reshape(len(flat), k)
    labelled = binned.total[flat] > counts[:, colours.none]
    counts[:, colours.none] = 0
    colour = np.full(grid.n, colours.none, np.intp)
    colour[flat] = np.where(labelled, counts.argmax(axis=1), colours.none)
    return _shade(colours.palette[colour], binned)


def _majority_by_colour(binned: Binned, colours: ColourIndex) -> np.ndarray:
    grid = binned.grid
    order, starts = colours.order()
    bins = binned.bins[order]
    best = np.zeros(grid.n + 1, np.int64)
    colour = np.full(grid.n + 1, colours.none, np.int64)
    for c in range(len(colours.palette)):
        if c == colours.none:
            continue
        counts = np.bincount(bins[starts[c] : starts[c + 1]], minlength=grid.n + 1)
        better = counts > best
        best[better] = counts[better]
        colour[better] = c
    return colour[: grid.n]


def numeric_image(binned: Binned, colouring: Colouring) -> np.ndarray:
    """``(h, w, 4)`` RGBA: each bin in the ramp colour of its points' mean value, opacity by count."""
    assert colouring.level is not None
    grid, bins, level = binned.grid, binned.bins, colouring.level
    finite = np.isfinite(level)
    if finite.all():
        valued = binned.total
    else:
        bins, level = bins[finite], level[finite]
        valued = np.bincount(bins, minlength=grid.n + 1)[: grid.n]
    sums = np.bincount(bins, weights=level, minlength=grid.n + 1)[: grid.n]
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.rint(sums / valued * (RAMP_STEPS - 1))
    code = np.where(valued > 0, np.nan_to_num(step), colouring.none).astype(np.int64)
    return _shade(colouring.lut[code], binned)


def mask_image(grid: Grid, x: np.ndarray, y: np.ndarray, rgba: tuple[int, int, int, int]) -> np.ndarray:
    """``(h, w, 4)``: the bins holding any of these points tinted, with a solid outline around them.

    The outline follows the marked area with gaps of up to 4 bins closed (dilate, then erode) and holes filled,
    so a selection through a sparse region reads as one region rather than a spray of red dots and squares."""
    hit = np.bincount(grid.bins(x, y), minlength=grid.n + 1)[: grid.n].reshape(grid.h, grid.w) > 0
    closed = _fill_enclosed(_shrink(_grow(hit, 2), 2))
    outline = closed & ~_shrink(closed, 1)
    image = np.zeros((grid.h, grid.w, 4), np.uint8)
    image[hit] = (*rgba[:3], rgba[3] // 3)
    image[outline] = rgba
    return image


def _fill_enclosed(mask: np.ndarray) -> np.ndarray:
    """``mask`` plus every bin with mask on its left, right, above and below: all holes (and the odd bay)."""
    left = np.logical_or.accumulate(mask, axis=1)
    right = np.logical_or.accumulate(mask[:, ::-1], axis=1)[:, ::-1]
    up = np.logical_or.accumulate(mask, axis=0)
    down = np.logical_or.accumulate(mask[::-1], axis=0)[::-1]
    filled: np.ndarray = mask | (left & right & up & down)
    return filled


def _grow(mask: np.ndarray, r: int) -> np.ndarray:
    """Binary dilation by a (2r+1)^2 square, separably."""
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        for d in range(1, r + 1):
            if axis == 0:
                out[d:] |= src[:-d]
                out[:-d] |= src[d:]
            else:
                out[:, d:] |= src[:, :-d]
                out[:, :-d] |= src[:, d:]
    return out


def _shrink(mask: np.ndarray, r: int) -> np.ndarray:
    """Binary erosion by a (2r+1)^2 square (outside the grid counts as empty)."""
    return ~_grow(~np.pad(mask, r), r)[r:-r, r:-r]


def _shade(colours: np.ndarray, binned: Binned) -> np.ndarray:
    image = np.array(colours, np.uint8).reshape(binned.grid.n, 4)
    image[:, 3] = binned.alpha
    return image.reshape(binned.grid.h, binned.grid.w, 4)


def to_qimage(rgba: np.ndarray) -> QImage:
    """A QImage over an ``(h, w, 4)`` uint8 RGBA array (copied, so the array may go)."""
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, w * 4, QImage.Format.Format_RGBA8888).copy()
