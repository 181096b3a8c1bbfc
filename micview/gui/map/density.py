"""The zoomed-out picture of a map: its points binned on a screen-aligned grid, one colour per bin.

Why (datashader's approach, in numpy): past a few tens of thousands of points in view, sprites overdraw each
other and cost time per point; a bin per 2x2 device pixels shows the same picture at a fixed cost. A bin takes
the colour of the class most of its labelled points have (unlabelled points only colour bins with no labelled
point, so a few labels among a million points still show), or the mean of a numeric column; its opacity grows
with the log of its count. Majority needs a count per (bin, colour): the points are kept sorted by colour, so
that is one ``bincount`` per palette colour (at most ~25), not one pass per class.
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


class ColourOrder:
    """The rows of a colouring grouped by palette colour (kept while the colouring lasts): rows
    ``order[starts[c]:starts[c + 1]]`` have colour ``palette[c]``."""

    def __init__(self, colouring: Colouring) -> None:
        palette, per_code = np.unique(colouring.lut, axis=0, return_inverse=True)
        self.palette = palette  # (c, 4) distinct colours
        self.none = int(per_code.reshape(-1)[colouring.none])
        colour = per_code.reshape(-1).astype(np.uint8)[colouring.codes]
        self.order = np.argsort(colour, kind="stable")  # a radix sort: a few ms at 1M
        self.starts = np.searchsorted(colour[self.order], np.arange(len(palette) + 1))


def categorical_image(grid: Grid, bins: np.ndarray, by_colour: ColourOrder) -> np.ndarray:
    """``(h, w, 4)`` RGBA: each bin in the colour most of its labelled points have, opacity by count.
    ``bins`` is :meth:`Grid.bins` of every row."""
    total = np.bincount(bins, minlength=grid.n + 1)[: grid.n]
    bins = bins[by_colour.order]
    best = np.zeros(grid.n + 1, np.int64)
    colour = np.full(grid.n + 1, by_colour.none, np.int64)
    for c in range(len(by_colour.palette)):
        if c == by_colour.none:
            continue
        counts = np.bincount(bins[by_colour.starts[c] : by_colour.starts[c + 1]], minlength=grid.n + 1)
        better = counts > best
        best[better] = counts[better]
        colour[better] = c
    return _shade(by_colour.palette[colour[: grid.n]], total, grid)


def numeric_image(grid: Grid, bins: np.ndarray, colouring: Colouring) -> np.ndarray:
    """``(h, w, 4)`` RGBA: each bin in the ramp colour of its points' mean value, opacity by count."""
    assert colouring.level is not None
    finite = np.isfinite(colouring.level)
    total = np.bincount(bins, minlength=grid.n + 1)[: grid.n]
    valued = np.bincount(bins[finite], minlength=grid.n + 1)[: grid.n]
    sums = np.bincount(bins[finite], weights=colouring.level[finite], minlength=grid.n + 1)[: grid.n]
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.rint(sums / valued * (RAMP_STEPS - 1))
    code = np.where(valued > 0, np.nan_to_num(step), colouring.none).astype(np.int64)
    return _shade(colouring.lut[code], total, grid)


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


def _shade(colours: np.ndarray, counts: np.ndarray, grid: Grid) -> np.ndarray:
    image = np.array(colours, np.uint8).reshape(grid.n, 4)
    top = max(int(counts.max()), 1) if len(counts) else 1
    alpha = MIN_ALPHA + (1 - MIN_ALPHA) * np.log1p(counts) / np.log1p(top)
    image[:, 3] = np.where(counts > 0, np.rint(alpha * 255), 0).astype(np.uint8)
    return image.reshape(grid.h, grid.w, 4)


def to_qimage(rgba: np.ndarray) -> QImage:
    """A QImage over an ``(h, w, 4)`` uint8 RGBA array (copied, so the array may go)."""
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, w * 4, QImage.Format.Format_RGBA8888).copy()
