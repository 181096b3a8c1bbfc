"""Create or edit a set of prompt groups: a name, two or more named groups, one prompt per line.

The groups are listed on the left (add, rename by double-click, remove); the selected group's prompts are edited
on the right. What is wrong (one group, an empty group, a name used twice) is said under the editor and Save
stays off until it is right. A paired set (the seed scripts' layout) keeps its pairing while every group keeps
one prompt per pair; otherwise it becomes plain groups, and the dialog says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from micview.gui.widgets import wrapping_label

if TYPE_CHECKING:
    from micview.ml.analysis import PromptGroups


class PromptGroupsDialog(QDialog):
    """``groups()`` after ``exec()`` returned Accepted is the edited set (``None`` before)."""

    def __init__(self, parent: QWidget | None = None, groups: PromptGroups | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit prompt groups" if groups else "New prompt groups")
        self.pair_ids = list(groups.pair_ids) if groups else []
        self.texts: list[str] = []
        self.name_edit = QLineEdit(groups.name if groups else "")
        self.name_edit.setPlaceholderText("e.g. crystals vs precipitate")
        self.list = QListWidget()
        self.list.setMaximumWidth(200)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("One prompt per line, e.g.\nneedle-shaped protein crystals\nplate crystals")
        self.add_button, self.remove_button = QPushButton("Add group"), QPushButton("Remove group")
        self.problem = wrapping_label(style="color: #d9b45a;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self._layout()
        start = groups.groups if groups else {"group A": [], "group B": []}
        for name, prompts in start.items():
            self._add(name, prompts)
        self.list.setCurrentRow(0)
        self.list.currentRowChanged.connect(self._on_row_changed)
        self.list.itemChanged.connect(lambda _i: self._check())
        self.editor.textChanged.connect(self._on_text_changed)
        self.name_edit.textChanged.connect(lambda _t: self._check())
        self.add_button.clicked.connect(lambda: self._add(f"group {self.list.count() + 1}", [], edit=True))
        self.remove_button.clicked.connect(self._remove)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._current = -1
        self._on_row_changed(0)
        self.resize(640, 420)

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        grid = QGridLayout()
        grid.addWidget(wrapping_label("Groups (double-click to rename)"), 0, 0)
        grid.addWidget(wrapping_label("Prompts of the selected group"), 0, 1)
        grid.addWidget(self.list, 1, 0)
        grid.addWidget(self.editor, 1, 1)
        row = QGridLayout()
        row.addWidget(self.add_button, 0, 0)
        row.addWidget(self.remove_button, 0, 1)
        grid.addLayout(row, 2, 0)
        grid.setColumnStretch(1, 1)
        col = QVBoxLayout(self)
        col.addLayout(form)
        col.addLayout(grid, 1)
        col.addWidget(self.problem)
        col.addWidget(self.buttons)

    def _add(self, name: str, prompts: list[str], edit: bool = False) -> None:
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.list.addItem(item)
        self.texts.append("\n".join(prompts))
        if edit:
            self.list.setCurrentItem(item)
            self.list.editItem(item)
        self._check()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self._current = -1
            self.texts.pop(row)
            self.list.takeItem(row)
            self._on_row_changed(self.list.currentRow())

    def _on_row_changed(self, row: int) -> None:
        self._current = row
        self.editor.blockSignals(True)
        self.editor.setPlainText(self.texts[row] if 0 <= row < len(self.texts) else "")
        self.editor.blockSignals(False)
        self.editor.setEnabled(row >= 0)
        self._check()

    def _on_text_changed(self) -> None:
        if 0 <= self._current < len(self.texts):
            self.texts[self._current] = self.editor.toPlainText()
        self._check()

    def _raw(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for k in range(self.list.count()):
            out[self.list.item(k).text().strip()] = [t.strip() for t in self.texts[k].splitlines() if t.strip()]
        return out

    def _check(self) -> None:
        problem = self._problem()
        note = ""
        if not problem and self.pair_ids and not self._paired(self._raw()):
            note = (
                f"The {len(self.pair_ids)} prompt pairs are kept only while every group has one prompt per pair: "
                "this set will be saved as plain groups."
            )
        self.problem.setText(problem or note)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not problem)

    def _problem(self) -> str:
        names = [self.list.item(k).text().strip() for k in range(self.list.count())]
        raw = self._raw()
        if not self.name_edit.text().strip():
            return "Give the set a name."
        if len(names) < 2:
            return "At least two groups are needed to compare them."
        if "" in names or len(set(names)) < len(names):
            return "Every group needs its own name."
        empty = [n for n, prompts in raw.items() if not prompts]
        if empty:
            return f"Group {', '.join(empty)} has no prompts yet: one prompt per line."
        return ""

    def _paired(self, raw: dict[str, list[str]]) -> bool:
        return all(len(p) == len(self.pair_ids) for p in raw.values())

    def groups(self) -> PromptGroups | None:
        """The edited set (validated by :class:`~micview.ml.analysis.PromptGroups` itself)."""
        from micview.ml.analysis.groups import PromptGroups

        if self.result() != QDialog.DialogCode.Accepted or self._problem():
            return None
        raw = self._raw()
        pairs = self.pair_ids if self.pair_ids and self._paired(raw) else []
        return PromptGroups.from_dict({"name": self.name_edit.text().strip(), "groups": raw, "pair_ids": pairs})
