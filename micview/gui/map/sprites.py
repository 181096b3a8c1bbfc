"""The zoomed-in picture: every point in view drawn as a pre-rendered sprite, all in one Qt call.

Why: ``QPainter.drawPixmapFragments`` draws tens of thousands of small pixmaps from one atlas in C++; the
fragments are filled from numpy arrays (pyqtgraph's ``PrimitiveArray``, the same helper its ScatterPlotItem
uses), so there is no Python object per point. One atlas row holds a disc per colour of the LUT (or one ring
for a highlight); it is rebuilt only when the colours, the size or the screen's pixel ratio change.
"""

from __future__ import annotations

import numpy as np
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap


class SpriteSheet:
    """Antialiased symbols of one size, one per colour, side by side in a pixmap."""

    def __init__(self, colours: np.ndarray, size: float, dpr: float, ring_width: float = 0.0) -> None:
        self.size, self.dpr, self.count, self.ring_width = size, dpr, len(colours), ring_width
        self.cell = int(np.ceil((size + ring_width + 2) * dpr))
        image = QImage(self.cell * max(self.count, 1), self.cell, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = size * dpr / 2
        for k, (r, g, b, a) in enumerate(np.asarray(colours, np.uint8).tolist()):
            centre = QPointF(k * self.cell + self.cell / 2, self.cell / 2)
            if ring_width:
                painter.setPen(QPen(QColor(r, g, b, a), ring_width * dpr))
                painter.setBrush(Qt.BrushStyle.NoBrush)
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(r, g, b, a))
            painter.drawEllipse(centre, radius, radius)
        painter.end()
        self.pixmap = QPixmap.fromImage(image)
        self._fragments = PrimitiveArray(QPainter.PixmapFragment, 10)

    def draw(self, painter: QPainter, u: np.ndarray, v: np.ndarray, which: np.ndarray | int = 0) -> None:
        """Draw sprite ``which`` (per point, or one for all) centred at device positions (``u``, ``v``).

        The painter's transform must be the identity (device coordinates).
        """
        n = len(u)
        if not n:
            return
        self._fragments.resize(n)
        frags = self._fragments.ndarray()
        frags[:, 0], frags[:, 1] = u, v
        frags[:, 2] = np.asarray(which, np.float64) * self.cell
        frags[:, 3] = 0.0
        frags[:, 4:6] = self.cell
        frags[:, 6:8] = 1.0 / self.dpr
        frags[:, 8], frags[:, 9] = 0.0, 1.0
        # PySide takes (first fragment, count, pixmap): the stubs know only the list form
        painter.drawPixmapFragments(*self._fragments.drawargs(), self.pixmap)  # type: ignore[call-arg]
