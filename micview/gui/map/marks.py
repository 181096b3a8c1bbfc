"""Highlight layers above the map's points: the selection, search results, or any set of images another view
wants to point out (e.g. new points of a watched folder), each under a key with its own style.

Why a layer of its own: changing the selection redraws only the marks, never recolours the points. A mark is
exact: a ring around every marked point in view while there are at most :data:`RING_LIMIT` of them; beyond
that (half of a million-point map selected) the marked screen bins are tinted with an outline.
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
    """How marked points look: a ring of ``size`` pixels (``width`` its line; 0 draws a filled dot)."""

    colour: str
    size: float = 11.0
    width: float = 2.0
    z: float = 0.0  # order among marks, higher on top


@dataclass
class _Mark:
    style: MarkStyle
    rows: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sheet: SpriteSheet | None = None
    raster: tuple[Grid, QImage] | None = None


class MapMarksItem(pg.GraphicsObject):
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
        return self.source.boundingRect()

    def paint(self, p: QPainter, *args: Any) -> None:
        view = self.viewRect()
        if view is None:
            return
        transform = p.transform()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        for mark in sorted(self._marks.values(), key=lambda m: m.style.z):
            p.setTransform(transform)
            shown = in_view(mark.x, mark.y, view, transform, limit=RING_LIMIT)
            if shown is not None:
                self._paint_rings(p, mark, shown, transform, dpr)
            else:
                self._paint_tint(p, mark, view, transform, dpr)

    @staticmethod
    def _paint_rings(p: QPainter, mark: _Mark, shown: np.ndarray, transform: Any, dpr: float) -> None:
        style = mark.style
        if mark.sheet is None or mark.sheet.dpr != dpr:
            rgba = np.array([QColor(style.colour).getRgb()], np.uint8)
            mark.sheet = SpriteSheet(rgba, style.size, dpr, ring_width=style.width)
        u, v = device_xy(mark.x[shown], mark.y[shown], transform)
        p.resetTransform()
        mark.sheet.draw(p, u, v)

    @staticmethod
    def _paint_tint(p: QPainter, mark: _Mark, view: QRectF, transform: Any, dpr: float) -> None:
        grid = Grid.over(view, transform, BIN_PX / dpr)
        if grid is None:
            return
        if mark.raster is None or mark.raster[0] != grid:
            rgba = QColor(mark.style.colour).getRgb()
            mark.raster = (grid, to_qimage(mask_image(grid, mark.x, mark.y, rgba)))
        p.resetTransform()
        p.drawImage(grid.device_rect, mark.raster[1])
