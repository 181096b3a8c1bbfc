"""What watch mode draws on the map: a ring on each new point, and each plate well's trajectory over time.

The rings are the scatter's own mark under the key ``"new"`` (:meth:`~micview.gui.scatter.ScatterWidget.highlight`),
so they are exact and scale as the selection's do: a ring per point while they are few, the points filled or a
tint when thousands arrived. The trajectories are pyqtgraph lines added through
:meth:`~micview.gui.scatter.ScatterWidget.add_overlay`. Both observe the Session's map and
:func:`~micview.gui.watch_state.watch_state`, never the scatter's internals. A trajectory is a line through one
drop's points (where the shown map has them) in time order, coloured by the score of its latest prediction (blue
low → red high).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from micview.gui.map.marks import MarkStyle
from micview.gui.session import Session
from micview.gui.watch_state import watch_state

NEW_COLOR = "#ffb020"
NEW = MarkStyle(NEW_COLOR, pad=12, width=2, z=-1)  # outside the selection's ring (pad 4), beneath the other marks
MAX_TRAJECTORIES = 400  # a 384-well plate's drops; more lines are unreadable anyway


class WatchOverlay:
    """The new-point rings and well trajectories on one scatter widget."""

    def __init__(self, session: Session, scatter: Any) -> None:
        self.session = session
        self.state = watch_state(session)
        self.paths: list[pg.PlotCurveItem] = []
        self.scatter = scatter
        self._trajectories: list[Any] = []
        self.state.changed.connect(self.update)
        session.map.changed.connect(self._on_map_changed)
        session.map.appended.connect(lambda _ids, _xy: self.update())

    def new_points(self) -> np.ndarray:
        """``(n, 2)`` map coordinates of the new images that are on the shown map (ringed there)."""
        _found, xy = self.scatter.positions(self.scatter.highlighted("new"))
        return np.asarray(xy, np.float32).reshape(-1, 2)

    def update(self) -> None:
        """The rings on the new images; the trajectories again when they changed."""
        new = self.state.new_ids
        self.scatter.highlight(np.fromiter(new, np.int64, len(new)), NEW, key="new")
        if self.state.trajectories is not self._trajectories:
            self._draw_paths()

    def _on_map_changed(self) -> None:
        self.update()
        self._draw_paths()  # another map: the same drops, other places

    def _draw_paths(self) -> None:
        for item in self.paths:
            self.scatter.remove_overlay(item)
        self.paths = []
        self._trajectories = self.state.trajectories
        for t in self._trajectories[:MAX_TRAJECTORIES]:
            found, xy = self.scatter.positions(t.image_ids)
            if found.sum() < 2:
                continue
            color = _score_color(self._score(int(t.image_ids[-1])))
            xy = xy[found]
            item = pg.PlotCurveItem(x=xy[:, 0], y=xy[:, 1], pen=pg.mkPen(color, width=2))
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
