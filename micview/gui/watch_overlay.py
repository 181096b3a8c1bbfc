"""What watch mode draws on the map: a ring on each new point, and each plate well's trajectory over time.

Separate pyqtgraph items added over the scatter's points through its one public hook
(:meth:`~micview.gui.scatter.ScatterWidget.add_overlay`); they observe the Session's map and
:func:`~micview.gui.watch_state.watch_state`, never the scatter's internals. A trajectory is a line through
one drop's points in time order, coloured by the score of its latest prediction (blue low → red high), with
a dot on its newest point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from micview.gui.session import Session
from micview.gui.watch_state import watch_state

NEW_COLOR = "#ffb020"
MAX_TRAJECTORIES = 400  # a 384-well plate's drops; more lines are unreadable anyway


class WatchOverlay:
    """The new-point rings and well trajectories on one scatter widget."""

    def __init__(self, session: Session, scatter: Any) -> None:
        self.session = session
        self.state = watch_state(session)
        self.rings = pg.ScatterPlotItem(pxMode=True, size=14, brush=None, pen=pg.mkPen(NEW_COLOR, width=2))
        self.paths: list[pg.PlotCurveItem] = []
        self.scatter = scatter
        scatter.add_overlay(self.rings)
        self.state.changed.connect(self.update)
        session.map.changed.connect(self.update)

    def new_points(self) -> np.ndarray:
        """``(n, 2)`` map coordinates of the new images that are on the shown map."""
        data = self.session.map.data
        if data is None or not self.state.new_ids:
            return np.zeros((0, 2), np.float32)
        rows = np.flatnonzero(np.isin(data.ids, np.fromiter(self.state.new_ids, np.int64)))
        return np.asarray(data.xy[rows], np.float32)

    def update(self) -> None:
        xy = self.new_points()
        if len(xy):
            self.rings.setData(x=xy[:, 0], y=xy[:, 1])
        else:
            self.rings.clear()
        self._draw_paths()

    def _draw_paths(self) -> None:
        for item in self.paths:
            self.scatter.remove_overlay(item)
        self.paths = []
        for t in self.state.trajectories[:MAX_TRAJECTORIES]:
            color = _score_color(self._score(int(t.image_ids[-1])))
            item = pg.PlotCurveItem(x=t.xy[:, 0], y=t.xy[:, 1], pen=pg.mkPen(color, width=2))
            item.setToolTip(f"{t.plate} {t.well} drop {t.drop}: {' → '.join(t.times)}")
            self.scatter.add_overlay(item)
            self.paths.append(item)

    def _score(self, image_id: int) -> float | None:
        for a in reversed(self.state.arrivals):
            if a.image_id == image_id and a.guess is not None:
                return float(a.guess.score)
        return None


def _score_color(score: float | None) -> Any:
    if score is None:
        return pg.mkColor("#9aa0a6")
    cmap = pg.colormap.get("CET-D1")
    return cmap.map(float(np.clip(score, 0, 1)), mode="qcolor")
