"""A line profile: drag a line over the image, read the raw values along it (distance in calibrated units)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from micview.gui.palette import RESULT


def sample_line(
    image: np.ndarray, start: tuple[float, float], end: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``image`` (rows × cols [× channels]) along the segment from ``start`` to ``end`` (x, y in pixels).

    One sample per pixel of length, nearest pixel, points outside the image dropped. Returns (distance in pixels,
    values); colour images give the mean of their channels.
    """
    (x0, y0), (x1, y1) = start, end
    n = max(2, int(np.hypot(x1 - x0, y1 - y0)) + 1)
    t = np.linspace(0.0, 1.0, n)
    xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    cols, rows = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    inside = (rows >= 0) & (rows < image.shape[0]) & (cols >= 0) & (cols < image.shape[1])
    values = image[rows[inside], cols[inside]]
    if values.ndim > 1:
        values = values.mean(axis=1)
    distance = t[inside] * np.hypot(x1 - x0, y1 - y0)
    return distance, np.real(values).astype(np.float64)


class LineProfile(pg.PlotWidget):
    """The plot under the image; :meth:`show_profile` draws one line's values."""

    def __init__(self) -> None:
        super().__init__(background="#17181b")
        self.setMinimumHeight(90)
        self.setMaximumHeight(200)
        self.curve = self.plot(pen=pg.mkPen(RESULT, width=1.5))
        self.setLabel("left", "value")
        self.setMenuEnabled(False)

    def show_profile(self, distance_px: np.ndarray, values: np.ndarray, step_m: float | None) -> None:
        if step_m:
            self.curve.setData(distance_px * step_m, values)
            self.setLabel("bottom", "distance", units="m")
        else:
            self.curve.setData(distance_px, values)
            self.setLabel("bottom", "distance (pixels)", units=None)
