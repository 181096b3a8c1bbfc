"""Dialogs of the File menu: the files that could not be imported (with why), and which CSV columns are labels."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.gui.widgets import wrapping_label


class ImportErrorsDialog(QDialog):
    """Every file of the project that could not be read, and the reason, in a table one can copy."""

    def __init__(self, errors: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Files that could not be imported")
        self.resize(820, 440)
        n = len(errors)
        self.summary = wrapping_label(
            f"{n:,} file{'s' * (n != 1)} could not be imported. A file that could not be read stays listed in the "
            "project: fix or replace it and use File ▸ Add folder… again to read it. A file skipped (a named pipe, "
            "a device, a path gone since it was chosen) was never opened and has no record." if n else
            "Every file of this project was read."
        )  # fmt: skip
        self.table = QTableWidget(n, 2)
        self.table.setHorizontalHeaderLabels(["File", "Why"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 260)
        for r, (path, reason) in enumerate(errors):
            for c, text in enumerate((path, reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy list")
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.as_text()))
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(self.summary)
        col.addWidget(self.table, 1)
        col.addWidget(buttons)
        self._errors = errors

    def as_text(self) -> str:
        return "\n".join(f"{path}\t{reason}" for path, reason in self._errors)


class LabelColumnsDialog(QDialog):
    """Which columns of a CSV are label tasks (ticked: micview's guess); the others become metadata."""

    def __init__(self, csv_path: Path, header: list[str], guessed: list[str], rows: int,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle(f"Import labels from {csv_path.name}")
        self.resize(520, 460)
        self.list = QListWidget()
        for name in header:
            if name == "file":
                continue
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in guessed else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(wrapping_label(
            f"{rows:,} rows. Images are matched by the “file” column. Ticked columns become label tasks (you can "
            "label, filter, colour the map and classify by them); the others are kept as metadata you can filter "
            "and colour by."
        ))  # fmt: skip
        col.addWidget(self.list, 1)
        col.addWidget(buttons)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)

    def tasks(self) -> list[str]:
        items = (self.list.item(i) for i in range(self.list.count()))
        return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]
