"""The label bar: task choice, "New task…", and the class keys (click one = press its key).

It fits any task on a laptop screen: keys 1–9 share the width left (their names elided in the middle, so
"Scanning electron microscopy (SEM)" still shows "(SEM)"; full name in the tooltip), and classes past the
ninth go in a "More" menu. Writes go through the :class:`LabellingController`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QMenu, QPushButton, QToolButton, QWidget

from micview.gui.controllers.labelling import LabellingController
from micview.gui.palette import color_for
from micview.gui.session import Session
from micview.gui.widgets import ElidedButton, compact_combo, elided_label

KEYS = 9


class LabelBar(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.ctl = LabellingController(session)
        self.task_combo = compact_combo(10)
        self.task_combo.setMaximumWidth(220)
        self.task_combo.setToolTip("The labelling task that keys 1–9 write to")
        self.new_button = QPushButton("New task…")
        self.edit_button = QToolButton(text="Edit…", toolTip="Edit the classes of this task (their key order)")
        self.more_button = QToolButton(text="More ▾", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_button.setToolTip("Classes past the ninth: choose one to label the selection")
        self.more_menu = QMenu(self)
        self.more_button.setMenu(self.more_menu)
        self.keys = QHBoxLayout()
        self.keys.setSpacing(3)
        self.key_buttons: list[ElidedButton] = []
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(4)
        row.addWidget(QLabel("<b>Label</b>"))
        row.addWidget(self.task_combo, 1)
        row.addWidget(self.new_button)
        row.addWidget(self.edit_button)
        row.addLayout(self.keys, 6)
        row.addWidget(self.more_button)
        self.hint = elided_label(
            "keys 1–9 label the selection · 0 removes · Ctrl+Z undoes", Qt.TextElideMode.ElideRight
        )
        self.hint.setStyleSheet("color: #8a9099;")
        row.addWidget(self.hint, 2)
        self.task_combo.currentTextChanged.connect(self._on_combo)
        self.new_button.clicked.connect(self._new_task)
        self.edit_button.clicked.connect(self._edit_classes)
        session.task.changed.connect(self._on_task_changed)
        session.tasks_changed.connect(self.refresh)
        session.project_changed.connect(lambda _p: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        self.task_combo.blockSignals(True)
        self.task_combo.clear()
        for task in self.ctl.tasks():
            self.task_combo.addItem(task)
            self.task_combo.setItemData(self.task_combo.count() - 1, task, Qt.ItemDataRole.ToolTipRole)
        self.task_combo.setCurrentText(self.session.task.name)
        self.task_combo.blockSignals(False)
        self._show_keys()

    def _on_combo(self, name: str) -> None:
        if name and name != self.session.task.name:
            self.ctl.set_task(name)

    def _on_task_changed(self, _name: str) -> None:
        self.refresh()

    def _show_keys(self) -> None:
        while self.keys.count():
            item = self.keys.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        classes = self.session.task.classes
        self.key_buttons = [self._key_button(k, cls, classes) for k, cls in enumerate(classes[:KEYS])]
        for button in self.key_buttons:
            self.keys.addWidget(button, 1)
        self.more_menu.clear()
        for k, cls in enumerate(classes[KEYS:], start=KEYS):
            self.more_menu.addAction(cls, lambda i=k: self.ctl.assign(i))
        self.more_button.setVisible(len(classes) > KEYS)
        self.more_button.setText(f"+{len(classes) - KEYS} ▾")
        self.edit_button.setEnabled(bool(self.session.task.name))

    def _key_button(self, k: int, cls: str, classes: list[str]) -> ElidedButton:
        button = ElidedButton(f"{k + 1}  {cls}", max_width=200, mode=Qt.TextElideMode.ElideMiddle)
        button.minimum_width = 44
        color = color_for(cls, classes).name()
        button.setStyleSheet(f"QPushButton {{ border: 1px solid {color}; border-left: 6px solid {color}; "
                             "border-radius: 3px; padding: 2px 6px; text-align: left; }")  # fmt: skip
        button.setToolTip(f"Press {k + 1} to label the selected images “{cls}”")
        button.clicked.connect(lambda _c=False, i=k: self.ctl.assign(i))
        return button

    def _new_task(self) -> None:
        if self.session.project is None:
            return
        name, ok = QInputDialog.getText(self, "New labelling task", "Task name (e.g. morphology):")
        if ok and name.strip():
            classes, ok = QInputDialog.getText(self, "Classes", "Classes in key order, comma-separated:")
            self.ctl.define(name.strip(), [c.strip() for c in classes.split(",")] if ok else [])

    def _edit_classes(self) -> None:
        task = self.session.task
        text, ok = QInputDialog.getText(self, f"Classes of {task.name}", "Classes in key order, comma-separated:",
                                        text=", ".join(task.classes))  # fmt: skip
        if ok:
            self.ctl.define(task.name, [c.strip() for c in text.split(",")])
