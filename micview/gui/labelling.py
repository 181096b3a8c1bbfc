"""Labelling the selection with number keys, with undo/redo.

Every change is written to the project at once. Undo writes the *previous* labels back with
``project.labels.set_many`` — a new row in the append-only history, so nothing a user did is ever lost, and
the project file never depends on the in-memory undo stack.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QInputDialog, QLabel, QPushButton, QToolButton, QWidget

from micview.core.store import Project
from micview.gui.palette import color_for
from micview.gui.selection import Selection


class SetLabels(QUndoCommand):
    def __init__(self, ctl: LabelController, task: str, ids: list[int], label: str | None) -> None:
        what = f"label {len(ids)} image{'s' * (len(ids) != 1)} “{label}”" if label else f"unlabel {len(ids)}"
        super().__init__(what)
        self.ctl, self.task, self.ids, self.label = ctl, task, ids, label
        current = ctl.project().labels.labels(task)
        self.before: dict[int, str | None] = {i: current.get(i) for i in ids}

    def redo(self) -> None:
        self.ctl.project().labels.set(self.ids, self.task, self.label)
        self.ctl.labels_changed.emit(self.task)

    def undo(self) -> None:
        self.ctl.project().labels.set_many(self.task, self.before)
        self.ctl.labels_changed.emit(self.task)


class LabelController(QObject):
    """The active labelling task and its classes; ``assign(k)`` labels the selection with class ``k``."""

    task_changed = Signal(str)
    labels_changed = Signal(str)

    def __init__(self, project: Callable[[], Project], selection: Selection, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.selection = selection
        self.undo_stack = QUndoStack(self)
        self.task = ""
        self.classes: list[str] = []

    def tasks(self) -> list[str]:
        return self.project().labels.task_names()

    def set_task(self, name: str) -> None:
        definition = self.project().labels.task(name) if name else None
        self.task = name
        self.classes = list(definition.classes) if definition else self._classes_in_use(name)
        self.task_changed.emit(name)

    def _classes_in_use(self, task: str) -> list[str]:
        return sorted(set(self.project().labels.labels(task).values())) if task else []

    def define(self, name: str, classes: list[str]) -> None:
        """Create or redefine a task (its classes in key order)."""
        self.project().labels.define_task(name, [c for c in classes if c])
        self.set_task(name)

    def assign(self, k: int) -> bool:
        """Label the selection with class ``k`` (0-based); false when there is nothing to do."""
        if not self.task or not self.selection.ids or not 0 <= k < len(self.classes):
            return False
        self.undo_stack.push(SetLabels(self, self.task, list(self.selection.ids), self.classes[k]))
        return True

    def remove(self) -> bool:
        if not self.task or not self.selection.ids:
            return False
        self.undo_stack.push(SetLabels(self, self.task, list(self.selection.ids), None))
        return True


class LabelBar(QWidget):
    """Task combo, "New task…", and the classes with their keys (click one = press its key)."""

    def __init__(self, ctl: LabelController) -> None:
        super().__init__()
        self.ctl = ctl
        self.task_combo = QComboBox(minimumContentsLength=10)
        self.task_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.new_button = QPushButton("New task…")
        self.edit_button = QToolButton(text="Edit classes…")
        self.keys = QHBoxLayout()
        self.keys.setSpacing(4)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.addWidget(QLabel("<b>Label</b>"))
        row.addWidget(self.task_combo)
        row.addWidget(self.new_button)
        row.addWidget(self.edit_button)
        row.addLayout(self.keys)
        row.addStretch(1)
        self.hint = QLabel("keys 1–9 label the selection · 0 removes · Ctrl+Z undoes")
        self.hint.setStyleSheet("color: #8a9099;")
        row.addWidget(self.hint)
        self.task_combo.currentTextChanged.connect(self._on_combo)
        self.new_button.clicked.connect(self._new_task)
        self.edit_button.clicked.connect(self._edit_classes)
        ctl.task_changed.connect(self._on_task_changed)

    def refresh(self) -> None:
        self.task_combo.blockSignals(True)
        self.task_combo.clear()
        self.task_combo.addItems(self.ctl.tasks())
        self.task_combo.setCurrentText(self.ctl.task)
        self.task_combo.blockSignals(False)
        self._show_keys()

    def _on_combo(self, name: str) -> None:
        if name and name != self.ctl.task:
            self.ctl.set_task(name)

    def _on_task_changed(self, _name: str) -> None:
        self.refresh()

    def _show_keys(self) -> None:
        while self.keys.count():
            item = self.keys.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for k, cls in enumerate(self.ctl.classes[:9]):
            button = QPushButton(f"{k + 1}  {cls}")
            color = color_for(cls, self.ctl.classes).name()
            button.setStyleSheet(f"QPushButton {{ border: 1px solid {color}; border-left: 6px solid {color}; "
                                 "border-radius: 3px; padding: 2px 8px; }")  # fmt: skip
            button.setToolTip(f"Press {k + 1} to label the selected images “{cls}”")
            button.clicked.connect(lambda _c=False, i=k: self.ctl.assign(i))
            self.keys.addWidget(button)
        self.edit_button.setEnabled(bool(self.ctl.task))

    def _new_task(self) -> None:
        name, ok = QInputDialog.getText(self, "New labelling task", "Task name (e.g. morphology):")
        if ok and name.strip():
            classes, ok = QInputDialog.getText(self, "Classes", "Classes in key order, comma-separated:")
            self.ctl.define(name.strip(), [c.strip() for c in classes.split(",")] if ok else [])

    def _edit_classes(self) -> None:
        text, ok = QInputDialog.getText(self, f"Classes of {self.ctl.task}", "Classes in key order, comma-separated:",
                                        text=", ".join(self.ctl.classes))  # fmt: skip
        if ok:
            self.ctl.define(self.ctl.task, [c.strip() for c in text.split(",")])
