"""The side panel's Watch tab: watch a folder live, alert rules, the alert list, and the map refit offer.

It receives the Session (never the window), acts through :class:`~micview.gui.controllers.watch.WatchController`
and shows :func:`~micview.gui.watch_state.watch_state`. Alerts never open a dialog: each adds a notice in the
status bar and a row here; double-clicking a row selects that image and opens it in the viewer.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from micview.gui.controllers.watch import WatchController
from micview.gui.session import Session
from micview.gui.watch_state import watch_state
from micview.gui.widgets import wrapping_label

RULES_HINT = "crystals>=0.8; far; changed"


class WatchPanel(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.watch = WatchController(session)
        self.state = watch_state(session)
        self.folder = QLineEdit(placeholderText="Folder the microscope saves to", objectName="watch_folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.rules = QLineEdit(placeholderText=RULES_HINT, objectName="watch_rules")
        self.rules.setToolTip("Alert rules, separated by ';': CLASS>=SCORE, far, far>DISTANCE, changed")
        self.alert_log = QLineEdit(placeholderText="optional: alerts.jsonl", objectName="watch_alert_log")
        self.alert_log.setToolTip("Each alert is appended to this file as one JSON line (for a lab's own pipeline)")
        self.polling = QCheckBox("Network share (poll every second)")
        self.toggle = QPushButton("Watch", checkable=True, objectName="watch_toggle")
        self.toggle.setToolTip("New images in the folder are imported, embedded, placed on the map and predicted")
        self.toggle.toggled.connect(self._on_toggled)
        self.status = wrapping_label("")
        self.status.setStyleSheet("color: #9aa0a6;")
        self.refit = QPushButton("Refit map", objectName="watch_refit", visible=False)
        self.refit.setToolTip("More than 20 % of the map's points were placed after it was fitted")
        self.refit.clicked.connect(self.watch.refit)
        self.seen = QPushButton("Mark all seen", objectName="watch_seen")
        self.seen.clicked.connect(self.state.clear_new)
        self.alerts = QListWidget(objectName="alert_list", wordWrap=True)
        self.alerts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.alerts.setAlternatingRowColors(True)
        self.alerts.setSpacing(2)
        self.alerts.setToolTip("Double-click an alert to select its image and open it")
        self.alerts_title = QLabel("Alerts")
        self.alerts.itemDoubleClicked.connect(self._on_alert_opened)
        self._layout(browse)
        self.state.changed.connect(self._on_state_changed)
        self.state.hit.connect(self._on_hits)
        session.project_changed.connect(self._on_project_changed)
        self._on_project_changed(session.project)

    def _layout(self, browse: QPushButton) -> None:
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Folder", row)
        form.addRow("Alert when", self.rules)
        form.addRow("Alert log", self.alert_log)
        form.addRow("", self.polling)
        buttons = QHBoxLayout()
        for w in (self.toggle, self.seen, self.refit):
            buttons.addWidget(w)
        buttons.addStretch(1)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addLayout(buttons)
        col.addWidget(self.status)
        col.addWidget(self.alerts_title)
        col.addWidget(self.alerts, 1)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to watch", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _on_toggled(self, on: bool) -> None:
        if on == self.state.running:
            return
        if not on:
            self.watch.stop()
            return
        text = self.folder.text().strip()
        if not text:
            self.session.errors.report("Watch", "Choose the folder to watch first.", popup=False)
            self.toggle.setChecked(False)
            return
        rules = [r for r in self.rules.text().split(";") if r.strip()]
        polling = True if self.polling.isChecked() else None
        if self.watch.start(text, rules, polling=polling, alert_log=self.alert_log.text().strip()) is None:
            self.toggle.setChecked(False)

    def _on_state_changed(self) -> None:
        s = self.state
        self.toggle.blockSignals(True)
        self.toggle.setChecked(s.running)
        self.toggle.setText("Stop watching" if s.running else "Watch")
        self.toggle.blockSignals(False)
        new = len(s.new_ids)
        self.status.setText(s.status)
        self.seen.setText(f"Mark {new} seen" if new else "Mark all seen")
        self.refit.setVisible(s.refit_suggested)
        self.seen.setEnabled(bool(new))

    def _on_hits(self, hits: list[Any]) -> None:
        """Newest first: when and which image, then why (the rule and the file in the tooltip)."""
        for hit in hits:
            when = time.strftime("%H:%M:%S", time.localtime(hit.at))
            item = QListWidgetItem(f"{when}  {hit.arrival.name}\n{hit.why}")
            item.setData(Qt.ItemDataRole.UserRole, hit.arrival.image_id)
            item.setToolTip(f"Rule: {hit.rule}\n{hit.arrival.path}")
            self.alerts.insertItem(0, item)
        count = self.alerts.count()
        self.alerts_title.setText(f"Alerts ({count})" if count else "Alerts")

    def _on_alert_opened(self, item: QListWidgetItem) -> None:
        image_id = int(item.data(Qt.ItemDataRole.UserRole))
        self.session.selection.set([image_id], self, current=image_id)
        self.session.viewer_requested.emit(image_id)

    def _on_project_changed(self, project: object) -> None:
        if self.state.running:
            self.watch.stop()
        self.state.reset()
        self.alerts.clear()
        self.alerts_title.setText("Alerts")
        self.toggle.setEnabled(project is not None)


def register() -> None:
    """Put this panel in the side panel's Watch tab (call before the main window is created)."""
    from micview.gui.side_panel import register_panel

    register_panel("Watch", WatchPanel)


def notice_actions(session: Session, dock: QWidget, tabs: Any) -> dict[str, Any]:
    """The notice-bar actions of watch mode's notices: ``refit_map``, and ``watch_alerts`` (shows this tab)."""

    def show_alerts() -> None:
        dock.show()
        for i in range(tabs.count()):
            if tabs.tabText(i) == "Watch":
                tabs.setCurrentIndex(i)

    return {"refit_map": lambda: WatchController(session).refit(), "watch_alerts": show_alerts}
