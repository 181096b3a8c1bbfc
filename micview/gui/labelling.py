"""The label bar: task choice, "New task…", and the class keys (click one = press its key).

It fits any task on a laptop screen: keys 1–9 share the width left, on two rows when one row would leave
each less than :data:`MIN_KEY_WIDTH` pixels (names elided in the middle, so "Scanning electron microscopy (SEM)"
keeps its "(SEM)"; the full name in the tooltip), and classes past the ninth go in a "+N" menu. The key numbers
are always shown. Writes go through the :class:`LabellingController`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QInputDialog, QLabel, QMenu, QToolButton, QWidget

from micview.gui.controllers.labelling import LabellingController
from micview.gui.palette import color_for
from micview.gui.session import Session
from micview.gui.widgets import ElidedButton, compact_combo, elided_label

KEYS = 9
MIN_KEY_WIDTH = 120  # below this per key on one row, the keys take two rows


class LabelBar(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.ctl = LabellingController(session)
        self.task_combo = compact_combo(7)
        self.task_combo.setMaximumWidth(220)
        self.task_combo.setToolTip("The labelling task that keys 1–9 write to")
        self.task_menu = QMenu(self)
        self.new_action = self.task_menu.addAction("New task…", self._new_task)
        self.edit_action = self.task_menu.addAction("Edit the classes of this task…", self._edit_classes)
        self.menu_button = QToolButton(text="Task ▾", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setToolTip("A new labelling task, or the classes (and key order) of this one")
        self.menu_button.setMenu(self.task_menu)
        self.more_button = QToolButton(text="More ▾", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_button.setToolTip("Classes past the ninth: choose one to label the selection")
        self.more_menu = QMenu(self)
        self.more_button.setMenu(self.more_menu)
        self.keys_box = QWidget()
        self.keys = QGridLayout(self.keys_box)
        self.keys.setContentsMargins(0, 0, 0, 0)
        self.keys.setSpacing(3)
        self._columns = KEYS
        self.key_buttons: list[ElidedButton] = []
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(4)
        row.addWidget(QLabel("<b>Label</b>"))
        row.addWidget(self.task_combo)
        row.addWidget(self.menu_button)
        row.addWidget(self.keys_box, 1)
        row.addWidget(self.more_button)
        self.keys_box.setToolTip("Keys 1–9 label the selected images · 0 or Backspace removes it · Ctrl+Z undoes")
        self.hint = elided_label("", Qt.TextElideMode.ElideRight)
        self.hint.setStyleSheet("color: #8a9099;")
        row.addWidget(self.hint, 1)  # shown only while there are no keys
        self.task_combo.currentTextChanged.connect(self._on_combo)
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
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # gone now, not at the next event turn
                widget.deleteLater()
        classes = self.session.task.classes
        self.key_buttons = [self._key_button(k, cls, classes) for k, cls in enumerate(classes[:KEYS])]
        self._arrange(force=True)
        self.more_menu.clear()
        for k, cls in enumerate(classes[KEYS:], start=KEYS):
            self.more_menu.addAction(cls, lambda i=k: self.ctl.assign(i))
        self.more_button.setVisible(len(classes) > KEYS)
        self.more_button.setText(f"+{len(classes) - KEYS} ▾")
        self.edit_action.setEnabled(bool(self.session.task.name))
        self.hint.setVisible(not classes)
        self.keys_box.setVisible(bool(classes))
        if not self.session.task.name:
            self.hint.setText("No labelling task yet: Task ▸ New task…, or File ▸ Import labels… from a CSV")
        elif not classes:
            self.hint.setText("This task has no classes yet: Task ▸ Edit the classes of this task…")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self, force: bool = False) -> None:
        """Keys on one row, or on two when one row would make them too narrow to read."""
        n = len(self.key_buttons)
        wanted = sum(b.sizeHint().width() for b in self.key_buttons)
        room = self.keys_box.width() if self.keys_box.width() > 0 else self.width() // 2
        one_row = n == 0 or wanted <= room or room / n >= MIN_KEY_WIDTH
        columns = max(1, n if one_row else (n + 1) // 2)
        if columns == self._columns and not force:
            return
        self._columns = columns
        for k, button in enumerate(self.key_buttons):
            self.keys.removeWidget(button)
            self.keys.addWidget(button, k // columns, k % columns)
        for c in range(KEYS):
            self.keys.setColumnStretch(c, 1 if c < columns else 0)

    def _key_button(self, k: int, cls: str, classes: list[str]) -> ElidedButton:
        button = ElidedButton(cls, max_width=200, mode=Qt.TextElideMode.ElideMiddle, prefix=f"{k + 1} ")
        button.minimum_width = 30
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
