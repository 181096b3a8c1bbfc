"""Highlight layers above the map's points: the selection, search results, or any set of images another view
wants to point out (e.g. new points of a watched folder), each under a key with its own style.

Why a layer of its own: changing the selection redraws only the marks, never recolours the points. A mark is
exact: a ring around every marked point in view while there are at most :data:`RING_LIMIT` of them and they do
not pile up (rings that overlap into a solid blob hide the points they mark); when they would, and every point
is drawn, the marked points are filled with the mark's colour instead; when the map is binned (half of a
million-point map selected) the marked screen bins are tinted, with an outline around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from micview.gui.map.density import BIN_PX, Grid, mask_image, to_qimage
from micview.gui.map.points_item import device_xy, in_view
from micview.gui.map.sprites import SpriteSheet

RING_LIMIT = 20_000


@dataclass(frozen=True)
class MarkStyle:
    """How marked points look: a ring ``pad`` pixels wider than the points as drawn (they shrink as more are
    in view), ``width`` its line."""

    colour: str
    pad: float = 4.0
    width: float = 1.5
    z: float = 0.0  # order among marks, higher on top


@dataclass
class _Mark:
    style: MarkStyle
    rows: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sheet: SpriteSheet | None = None
    raster: tuple[Grid, QImage] | None = None


class MapMarksItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph has no types
    """Marked rows of a map, drawn above the points; the map's coordinates come from ``source``."""

    def __init__(self, source: Any) -> None:
        super().__init__()
        self.source = source  # a MapPointsItem: its x, y and bounding box
        self._marks: dict[str, _Mark] = {}

    def set_mark(self, key: str, rows: np.ndarray, style: MarkStyle) -> None:
        """Mark ``rows`` under ``key`` (replacing what it marked); empty ``rows`` remove the mark."""
        rows = np.asarray(rows, np.int64)
        if not len(rows):
            self._marks.pop(key, None)
        else:
            self._marks[key] = _Mark(style, rows, self.source.x[rows], self.source.y[rows])
        self.update()

    def rows(self, key: str) -> np.ndarray:
        mark = self._marks.get(key)
        return mark.rows if mark is not None else np.zeros(0, np.int64)

    def clear(self) -> None:
        self._marks.clear()
        self.update()

    def boundingRect(self) -> QRectF:
        bounds: QRectF = self.source.boundingRect()
        return bounds

    def paint(self, p: QPainter, *args: Any) -> None:
        view = self.viewRect()
        if view is None:
            return
        transform = p.transform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        for mark in sorted(self._marks.values(), key=lambda m: m.style.z):
            p.setTransform(transform)
            size = self.source.last_size + mark.style.pad
            shown = in_view(mark.x, mark.y, view, transform, limit=RING_LIMIT)
            if shown is None:
                self._paint_tint(p, mark, view, transform, dpr)
            elif not piles_up(*device_xy(mark.x[shown], mark.y[shown], transform), size):
                self._paint_sprites(p, mark, shown, transform, dpr, size, ring=True)
            elif self.source.last_mode == "points":  # dense but zoomed in: fill the marked points themselves
                self._paint_sprites(p, mark, shown, transform, dpr, self.source.last_size + 1, ring=False)
            else:
                self._paint_tint(p, mark, view, transform, dpr)

    @staticmethod
    def _paint_sprites(
        p: QPainter, mark: _Mark, shown: np.ndarray, transform: Any, dpr: float, size: float, ring: bool
    ) -> None:
        width = mark.style.width if ring else 0.0
        sheet = mark.sheet
        if sheet is None or (sheet.dpr, sheet.size, sheet.ring_width) != (dpr, size, width):
            rgba = np.array([QColor(mark.style.colour).getRgb()], np.uint8)
            mark.sheet = sheet = SpriteSheet(rgba, size, dpr, ring_width=width)
        u, v = device_xy(mark.x[shown], mark.y[shown], transform)
        p.resetTransform()
        sheet.draw(p, u, v)

    @staticmethod
    def _paint_tint(p: QPainter, mark: _Mark, view: QRectF, transform: Any, dpr: float) -> None:
        grid = Grid.over(view, transform, BIN_PX / dpr)
        if grid is None:
            return
        if mark.raster is None or mark.raster[0] != grid:
            colour = QColor(mark.style.colour)
            r, g, b, a = colour.red(), colour.green(), colour.blue(), colour.alpha()
            mark.raster = (grid, to_qimage(mask_image(grid, mark.x, mark.y, (r, g, b, a))))
        p.resetTransform()
        p.drawImage(grid.device_rect, mark.raster[1])


def piles_up(u: np.ndarray, v: np.ndarray, size: float, most: float = 2.0) -> bool:
    """Whether rings of ``size`` pixels at (``u``, ``v``) overlap into blobs: more than ``most`` per ring-sized
    cell of the screen, on average over the cells they occupy."""
    if len(u) < 50:
        return False
    cells = np.unique((np.floor(u / size).astype(np.int64) << 32) + np.floor(v / size).astype(np.int64))
    return len(u) > most * len(cells)
