"""The map's mouse tools: a ViewBox whose left-drag draws a box or a lasso; the picking and region tests it
feeds live in :mod:`micview.gui.map` and are re-exported here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from micview.gui.map.point_index import PointPicker
from micview.gui.map.region import points_in_polygon

__all__ = ["PointPicker", "SelectViewBox", "points_in_polygon"]
LASSO_STEP_PX = 3.0


class SelectViewBox(pg.ViewBox):  # type: ignore[misc]  # pyqtgraph has no types
    """A ViewBox whose left-drag draws a rectangle or lasso (``mode``) instead of panning.

    ``region_selected(polygon, modifiers)`` carries the region in data coordinates. A lasso keeps a vertex per
    :data:`LASSO_STEP_PX` pixels of drag: the mouse reports far more, and each vertex costs the region test time.
    """

    region_selected = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self.mode = "pan"
        self._points: list[QPointF] = []
        self._last_px = QPointF()
        self._outline = QGraphicsPathItem()
        self._outline.setPen(pg.mkPen(QColor("#ffffff"), width=1.5, style=Qt.PenStyle.DashLine, cosmetic=True))
        self._outline.setBrush(QColor(255, 255, 255, 30))
        self._outline.setZValue(1e9)
        pen = QPen(self._outline.pen())
        pen.setCosmetic(True)
        self._outline.setPen(pen)

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        if self.mode == "pan" or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        pos = self.mapToView(ev.pos())
        if ev.isStart():
            self._points = [self.mapToView(ev.buttonDownPos()), pos]
            self._last_px = ev.pos()
            self.addItem(self._outline, ignoreBounds=True)
        elif self.mode == "lasso":
            if (ev.pos() - self._last_px).manhattanLength() >= LASSO_STEP_PX or ev.isFinish():
                self._points.append(pos)
                self._last_px = ev.pos()
        else:
            self._points[1] = pos
        self._outline.setPath(self._path())
        if ev.isFinish():
            self.removeItem(self._outline)
            self.region_selected.emit(self._polygon(), ev.modifiers())

    def _polygon(self) -> np.ndarray:
        pts = np.array([(p.x(), p.y()) for p in self._points], np.float64)
        if self.mode == "rect":
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            pts = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        return pts

    def _path(self) -> QPainterPath:
        path = QPainterPath()
        pts = self._polygon()
        path.moveTo(*pts[0])
        for p in pts[1:]:
            path.lineTo(*p)
        path.closeSubpath()
        return path
