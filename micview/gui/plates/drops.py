"""The drops of one well over time: a table of thumbnails, one row per drop, time points left to right.

Thumbnails are the project's stored thumbnail BLOBs (decoded once, cached per image). Under each: the time
point and the user's score, or the model's prediction with its confidence. Double-click opens the viewer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QMouseEvent, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QToolButton, QVBoxLayout, QWidget

from micview.core.plate_export import DropScore
from micview.core.plates import natural_key
from micview.gui.plates.model import WellState

THUMB = 112
PER_ROW = 8  # tiles in one row before drops wrap to the next


def caption(s: DropScore) -> str:
    when = s.drop.time or "—"
    if s.user is not None:
        return f"{when}\n{s.user.label} (you)"
    if s.model is not None:
        conf = f" {s.model.score:.0%}" if s.model.score is not None else ""
        return f"{when}\n{s.model.label}{conf} (model)"
    return f"{when}\nnot scored"


class Tile(QToolButton):
    opened = Signal(int)

    def __init__(self, s: DropScore, pixmap: QPixmap | None) -> None:
        super().__init__()
        self.image_id = s.drop.image_id
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.setIconSize(QSize(THUMB, THUMB))
        if pixmap is not None:
            self.setIcon(QIcon(pixmap))
        self.setText(caption(s))
        self.setToolTip(f"{s.drop.path}\ndouble-click to open in the viewer")
        self.setAutoRaise(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the grid while scoring

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.opened.emit(self.image_id)


class DropStrip(QScrollArea):
    """Shows a :class:`WellState`'s history; ``opened(image_id)`` on double-click."""

    opened = Signal(int)

    def __init__(self, thumbnail: Callable[[int], QPixmap | None]) -> None:
        super().__init__()
        self.thumbnail = thumbnail
        self.tiles: list[Tile] = []
        self.title = QLabel("Click a well to see its drops")
        self.title.setStyleSheet("font-weight: bold; padding: 2px 4px;")
        self.body = QWidget()
        self.cells = QGridLayout()
        self.cells.setSpacing(4)
        col = QVBoxLayout(self.body)
        col.setContentsMargins(4, 2, 4, 2)
        col.addWidget(self.title)
        col.addLayout(self.cells)
        col.addStretch(1)
        self.setWidget(self.body)
        self.setWidgetResizable(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def show_well(self, state: WellState | None, plate: str = "") -> None:
        self._clear()
        if state is None:
            self.title.setText("Click a well to see its drops")
            return
        outcome = f"{state.label} ({'your score' if state.scored else 'model'})" if state.label else "not scored"
        self.title.setText(f"Plate {plate} · well {state.well} · {outcome}")
        times = sorted({s.drop.time for s in state.history}, key=natural_key)
        drops = sorted({s.drop.drop for s in state.history}, key=natural_key)
        per_row = max(1, PER_ROW // len(times))  # drops side by side while they fit, time points left to right
        for i, drop in enumerate(drops):
            row, col = 2 * (i // per_row), (i % per_row) * (len(times) + 1)
            label = QLabel(f"<b>drop {drop}</b>")
            self.cells.addWidget(label, row, col, 1, len(times))
            for s in (s for s in state.history if s.drop.drop == drop):
                tile = Tile(s, self.thumbnail(s.drop.image_id))
                tile.opened.connect(self.opened)
                self.tiles.append(tile)
                self.cells.addWidget(tile, row + 1, col + times.index(s.drop.time))
            self.cells.setColumnMinimumWidth(col + len(times), 18)
        self.cells.setColumnStretch(self.cells.columnCount(), 1)

    def _clear(self) -> None:
        while self.cells.count():
            item = self.cells.takeAt(0)
            if (widget := item.widget()) is not None:
                widget.setParent(None)  # gone now: a deferred delete could still be painted over the next well
                widget.deleteLater()
        self.tiles = []
