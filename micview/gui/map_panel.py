"""The map side of the window: the scatter, or — before there is a map — what to do to get one.

Observes ``session.map`` (points or the reason there are none) and keeps the scatter's "Colour by" choices in
step with the project's tasks, predictions and fields. Until the user picks a column the map follows the active
label task; once they pick one it stays theirs: labelling, undo and task changes recolour the points, they never
switch the column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QStackedLayout, QVBoxLayout, QWidget

from micview.gui.columns import FILE_COLUMNS, column_names, column_values, column_values_of
from micview.gui.controllers.maps import MapController
from micview.gui.scatter import ScatterWidget
from micview.gui.session import Session
from micview.gui.watch_overlay import WatchOverlay
from micview.gui.widgets import wrapping_label


class EmptyMap(QWidget):
    """A centred message and, when it helps, the one button that fixes it ("Compute embeddings")."""

    def __init__(self) -> None:
        super().__init__()
        self.message = wrapping_label(style="color: #a0a6ad; font-size: 10.5pt;")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.button = QPushButton("Compute embeddings")
        self.button.setToolTip("Images ▸ Compute embeddings (Ctrl+E)")
        self.note = QLabel("Images ▸ Compute embeddings (Ctrl+E) does the same.")
        self.note.setStyleSheet("color: #6b7078;")
        col = QVBoxLayout(self)
        col.setContentsMargins(24, 24, 24, 24)
        col.addStretch(1)
        col.addWidget(self.message)
        col.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(self.note, 0, Qt.AlignmentFlag.AlignHCenter)
        col.addStretch(2)


class MapPanel(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.maps = MapController(session)
        self.scatter = ScatterWidget(session)
        self.empty = EmptyMap()
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.scatter)
        self.empty.button.clicked.connect(self.maps.embed)
        self.scatter.method_requested.connect(self.maps.set_method)
        self.user_choice = ""  # the column the user picked ("" while they have not)
        self.scatter.color_combo.activated.connect(self._on_color_picked)
        self.scatter.columns_of = self._values_of
        session.task.changed.connect(lambda _t: self._refresh_columns())
        session.project_changed.connect(self._on_project_changed)
        session.map.changed.connect(self._on_map_changed)
        for signal in (session.tasks_changed, session.fields_changed):
            signal.connect(self._refresh_columns)
        session.catalog.changed.connect(self._on_catalog_changed)
        session.quality_changed.connect(self._refresh_columns)
        session.labels_changed.connect(self._on_labels_changed)
        self.watch_overlay = WatchOverlay(session, self.scatter)  # new points' rings, wells' trajectories
        self._on_map_changed()

    def _on_map_changed(self) -> None:
        state = self.session.map
        if state.data is None:
            self.empty.message.setText(state.message or state.progress)
            shown = state.action == "embed"
            self.empty.button.setVisible(shown)
            self.empty.note.setVisible(shown)
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.scatter)
        self._refresh_columns()

    def _on_catalog_changed(self) -> None:
        """Images added or re-read: a file column's values may have changed. The other columns are by image id
        (new points get their colour as they are appended; a new map is coloured when it comes), so they are
        not read again: at 100 000 images that costs a third of a second per image a watched folder brings."""
        if self.scatter.color_combo.currentText() in FILE_COLUMNS:
            self._refresh_columns()

    def _on_color_picked(self, _index: int) -> None:
        self.user_choice = self.scatter.color_combo.currentText()

    def _on_project_changed(self, _project: object) -> None:
        self.user_choice = ""

    def _refresh_columns(self) -> None:
        project = self.session.project
        if project is None or self.session.map.data is None:
            return
        task = self.session.task.name
        prefer = self.user_choice or (f"Label: {task}" if task else "")
        self.scatter.set_color_options(column_names(project), self._values, prefer)

    def _values(self, name: str) -> tuple[dict[int, Any], list[str] | None]:
        project = self.session.require_project()
        return column_values(project, self.session.catalog.rows, name)

    def _values_of(self, name: str, ids: np.ndarray) -> dict[int, Any]:
        return column_values_of(self.session.require_project(), name, ids)

    def _on_labels_changed(self, task: str) -> None:
        """New labels or predictions: recolour when the map shows that task (the column stays the user's)."""
        current = self.scatter.color_combo.currentText()
        if current in (f"Label: {task}", f"Prediction: {task}") or current not in self._names():
            self._refresh_columns()

    def _names(self) -> list[str]:
        combo = self.scatter.color_combo
        return [combo.itemText(i) for i in range(combo.count())]
