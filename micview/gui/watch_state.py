"""Watch mode's part of the Session: whether a folder is watched, which images are new, and the alert hits.

One :class:`WatchState` per :class:`~micview.gui.session.Session`, created on first use by
:func:`watch_state` as a child of the session (so the Session class needs no field for it). Views observe it
like any other part: the grid draws a "new" chip and the map a ring on :attr:`WatchState.new_ids`, the
watch panel lists :attr:`WatchState.hits`, the map overlay draws the wells' trajectories. Only
:class:`~micview.gui.controllers.watch.WatchController` writes to it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from micview.core.watch.arrival import Arrival

MAX_HITS = 500


class WatchState(QObject):
    """``changed()`` after any change; ``arrived(list[Arrival])`` and ``hit(list[Hit])`` as they happen."""

    changed = Signal()
    arrived = Signal(object)
    hit = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = ""
        self.running = False
        self.status = ""
        self.new_ids: set[int] = set()
        self.arrivals: list[Arrival] = []
        self.hits: list[Any] = []
        self.refit_suggested = False
        self.trajectories: list[Any] = []  # micview.core.watch.wells.Trajectory, for the map overlay

    def is_new(self, image_id: Any) -> bool:
        return image_id is not None and int(image_id) in self.new_ids

    def set_running(self, running: bool, folder: str = "", status: str = "") -> None:
        self.running, self.folder, self.status = running, folder or self.folder, status
        self.changed.emit()

    def set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.changed.emit()

    def add(self, arrivals: list[Arrival], hits: list[Any]) -> None:
        if arrivals:
            self.arrivals += arrivals
            self.new_ids |= {a.image_id for a in arrivals}
            self.arrived.emit(arrivals)
        if hits:
            self.hits = (self.hits + hits)[-MAX_HITS:]
            self.hit.emit(hits)
        if arrivals or hits:
            self.changed.emit()

    def clear_new(self) -> None:
        """Mark everything seen: no "new" highlight until the next image arrives."""
        self.new_ids = set()
        self.changed.emit()

    def reset(self) -> None:
        self.new_ids, self.arrivals, self.hits, self.trajectories = set(), [], [], []
        self.refit_suggested, self.running, self.status = False, False, ""
        self.changed.emit()


def watch_state(session: QObject) -> WatchState:
    """The session's :class:`WatchState` (made on first use)."""
    found = session.findChild(WatchState, "watch_state")
    if found is not None:
        return found
    state = WatchState(session)
    state.setObjectName("watch_state")
    return state
