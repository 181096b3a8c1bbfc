"""The map's points as one pyqtgraph item that draws every point when zoomed in and bins them when not.

Why not ``ScatterPlotItem``: it keeps a brush object and an atlas key per point, so ``setData``/``setBrush``
cost seconds at 1M points; this item keeps two float arrays and a code array. Each frame it counts the points in
view: up to :data:`EXACT_LIMIT` it draws each one as a sprite (:mod:`.sprites`), above that a density raster
(:mod:`.density`) computed for this exact view and cached until the view or the colours change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter

from micview.gui.map.colouring import Colouring, plain
from micview.gui.map.density import BIN_PX, Binned, ColourIndex, Grid, categorical_image, numeric_image, to_qimage
from micview.gui.map.sprites import SpriteSheet

EXACT_LIMIT = 50_000  # points in view drawn one by one; more are binned
PAD_PX = 12.0  # the largest sprite radius, so points at the edge of the data are not cut


def point_size(in_view: int) -> int:
    """Sprite diameter in pixels: big for a few points, small for tens of thousands."""
    return int(np.clip(round(14 - 2.3 * np.log10(max(in_view, 1))), 3, 8))


class MapPointsItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph has no types
    """Points (``x``, ``y``) coloured by a :class:`~micview.gui.map.colouring.Colouring`."""

    def __init__(self) -> None:
        super().__init__()
        self.x = self.y = np.zeros(0, np.float32)
        self.colouring = plain(0)
        self._bounds: tuple[float, float, float, float] | None = None
        self._sheets: dict[tuple[Any, ...], SpriteSheet] = {}
        self._by_colour: ColourIndex | None = None
        self._raster: tuple[Grid, QImage] | None = None
        self._binned: Binned | None = None  # every row's screen bin, kept across recolours
        self._in_view: tuple[tuple[Any, ...], np.ndarray | None] | None = None
        self.last_mode = ""  # "points" or "density": what the last paint drew (tests and benchmarks read it)
        self.last_size = float(BIN_PX)  # the point diameter last drawn, in pixels (marks ring around it)

    # -- data ---------------------------------------------------------------------------------------------------
    def set_points(self, x: np.ndarray, y: np.ndarray, colouring: Colouring) -> None:
        self.prepareGeometryChange()
        self.x, self.y = np.ascontiguousarray(x, np.float32), np.ascontiguousarray(y, np.float32)
        self._bounds = (
            (float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max()))
            if len(self.x)
            else None
        )
        self._in_view, self._binned = None, None
        self.set_colouring(colouring)
        self.informViewBoundsChanged()

    def append_points(self, x: np.ndarray, y: np.ndarray, colouring: Colouring) -> None:
        """Add points after the existing ones, whose rows (and so the screen bins kept for them) stay valid;
        ``colouring`` covers every row, old and new."""
        x, y = np.ascontiguousarray(x, np.float32).ravel(), np.ascontiguousarray(y, np.float32).ravel()
        if not len(x):
            self.set_colouring(colouring)
            return
        self.prepareGeometryChange()
        self.x, self.y = np.concatenate([self.x, x]), np.concatenate([self.y, y])
        lo_x, lo_y, hi_x, hi_y = float(x.min()), float(y.min()), float(x.max()), float(y.max())
        if self._bounds is not None:
            x0, y0, x1, y1 = self._bounds
            lo_x, lo_y, hi_x, hi_y = min(x0, lo_x), min(y0, lo_y), max(x1, hi_x), max(y1, hi_y)
        self._bounds = (lo_x, lo_y, hi_x, hi_y)
        self._in_view = None
        if self._binned is not None:
            self._binned = self._binned.appended(x, y)
        self.set_colouring(colouring)
        self.informViewBoundsChanged()

    def set_colouring(self, colouring: Colouring) -> None:
        self.colouring = colouring
        self._sheets.clear()
        self._by_colour, self._raster = None, None
        self.update()

    # -- pyqtgraph item protocol ----------------------------------------------------------------------------
    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None) -> tuple[float, float] | None:
        if self._bounds is None:
            return None
        return (self._bounds[0], self._bounds[2]) if ax == 0 else (self._bounds[1], self._bounds[3])

    def pixelPadding(self) -> float:
        return PAD_PX

    def boundingRect(self) -> QRectF:
        if self._bounds is None:
            return QRectF()
        x0, y0, x1, y1 = self._bounds
        px, py = self.pixelVectors()
        dx = 0.0 if px is None else px.length() * PAD_PX
        dy = 0.0 if py is None else py.length() * PAD_PX
        return QRectF(x0 - dx, y0 - dy, x1 - x0 + 2 * dx, y1 - y0 + 2 * dy)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()
        super().viewTransformChanged()

    # -- drawing --------------------------------------------------------------------------------------------
    def paint(self, p: QPainter, *args: Any) -> None:
        view = self.viewRect()
        if view is None or not len(self.x):
            return
        transform = p.transform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        rows = self._rows_in_view(view, transform)
        if rows is not None:
            self.last_mode = "points"
            self._paint_points(p, rows, transform, dpr)
        else:
            self.last_mode, self.last_size = "density", float(BIN_PX)
            self._paint_density(p, view, transform, dpr)

    def _rows_in_view(self, view: QRectF, transform: Any) -> np.ndarray | None:
        """Rows in view when there are few enough to draw one by one, else ``None`` (cached per view)."""
        key = (view.getRect(), transform.m11(), transform.m22())
        if self._in_view is None or self._in_view[0] != key:
            self._in_view = (key, in_view(self.x, self.y, view, transform, limit=EXACT_LIMIT))
        return self._in_view[1]

    def _paint_points(self, p: QPainter, rows: np.ndarray, transform: Any, dpr: float) -> None:
        codes = self.colouring.codes[rows]
        rows = rows[np.argsort(codes != self.colouring.none, kind="stable")]  # points without a value underneath
        size = point_size(len(rows))
        self.last_size = float(size)
        key = (size, dpr)
        sheet = self._sheets.get(key) or self._sheets.setdefault(key, SpriteSheet(self.colouring.lut, size, dpr))
        u, v = device_xy(self.x[rows], self.y[rows], transform)
        p.resetTransform()
        sheet.draw(p, u, v, self.colouring.codes[rows])

    def _paint_density(self, p: QPainter, view: QRectF, transform: Any, dpr: float) -> None:
        grid = Grid.over(view, transform, BIN_PX / dpr)
        if grid is None:
            return
        if self._raster is None or self._raster[0] != grid:
            self._raster = (grid, to_qimage(self._density(grid)))
        p.resetTransform()
        p.drawImage(grid.device_rect, self._raster[1])

    def _density(self, grid: Grid) -> np.ndarray:
        if self._binned is None or self._binned.grid != grid:
            self._binned = Binned.of(grid, self.x, self.y)
        if self.colouring.numeric:
            return numeric_image(self._binned, self.colouring)
        if self._by_colour is None:
            self._by_colour = ColourIndex(self.colouring)
        return categorical_image(self._binned, self._by_colour)


def in_view(
    x: np.ndarray, y: np.ndarray, view: QRectF, transform: Any, limit: int, pad_px: float = PAD_PX
) -> np.ndarray | None:
    """Rows of the points inside ``view`` grown by ``pad_px`` pixels; ``None`` when there are more than
    ``limit`` or the view cannot be mapped."""
    sx, sy = abs(transform.m11()), abs(transform.m22())
    if sx == 0 or sy == 0:
        return None
    dx, dy = pad_px / sx, pad_px / sy
    mask = x >= view.left() - dx
    mask &= x <= view.right() + dx
    mask &= y >= view.top() - dy
    mask &= y <= view.bottom() + dy
    return np.flatnonzero(mask) if np.count_nonzero(mask) <= limit else None


def device_xy(x: np.ndarray, y: np.ndarray, transform: Any) -> tuple[np.ndarray, np.ndarray]:
    """Device coordinates of data points under a scale-and-translate ``transform``."""
    u = x.astype(np.float64) * transform.m11() + transform.dx()
    v = y.astype(np.float64) * transform.m22() + transform.dy()
    return u, v
