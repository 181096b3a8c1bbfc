"""File ▸ Backups…: the project's backups, newest first; restore one (after a confirmation) or back up now.

A restore first backs up what the project holds now (listed as "before a restore"), so it can itself be undone
from this same list. The dialog acts through :class:`~micview.gui.controllers.safety.SafetyController`; the
window closes and reopens the project around a restore.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.core.store import BackupInfo
from micview.core.store.backup import BACKUP_FOLDER, KEEP_AUTOMATIC
from micview.gui.controllers.safety import SafetyController
from micview.gui.session import Session
from micview.gui.widgets import wrapping_label


def why_text(backup: BackupInfo) -> str:
    """The backup's reason in words."""
    kind = backup.kind
    if kind == "manual":
        return "made by you"
    if kind == "daily":
        return "daily (automatic)"
    if kind == "before-restore":
        return "before a restore"
    if m := re.fullmatch(r"before-v(\d+)", kind):
        return f"before the upgrade to project format {m[1]}"
    return kind


class BackupsDialog(QDialog):
    """The list, and Restore… / Back up now. ``refresh()`` re-reads the folder."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.ctl = SafetyController(session)
        self.backups: list[BackupInfo] = []
        self.confirm: QMessageBox | None = None
        self.setWindowTitle("Backups")
        self.resize(760, 420)
        self.summary = wrapping_label()
        self.note = wrapping_label("", "color: #e0b060;")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Made (local time)", "Why", "Size", "File"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.ask_restore())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.restore_button = QPushButton("Restore…")
        self.backup_button = QPushButton("Back up now")
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.backup_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.restore_button.clicked.connect(self.ask_restore)
        self.backup_button.clicked.connect(self.back_up_now)
        col = QVBoxLayout(self)
        col.addWidget(self.summary)
        col.addWidget(self.table, 1)
        col.addWidget(self.note)
        col.addWidget(buttons)
        session.project_changed.connect(lambda _p: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        path = self.ctl.state.backups_target()
        self.backups = self.ctl.backups()
        name = path.name if path is not None else "the project"
        where = path.parent / BACKUP_FOLDER if path is not None else BACKUP_FOLDER
        self.summary.setText(
            f"<b>{len(self.backups)} backup{'s' * (len(self.backups) != 1)} of {name}</b>, in {where}.<br>"
            "micview makes one before each upgrade of the project format and one a day when the project is opened "
            f"(the newest {KEEP_AUTOMATIC} of each kind are kept); those you make stay until you delete them."
        )  # fmt: skip
        self.table.setRowCount(len(self.backups))
        for r, b in enumerate(self.backups):
            cells = (b.created.astimezone().strftime("%Y-%m-%d %H:%M:%S"), why_text(b),
                     f"{b.size_bytes / 1e6:.1f} MB", b.path.name)  # fmt: skip
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(b.path) if c == 3 else text)
                self.table.setItem(r, c, item)
        if self.backups:
            self.table.selectRow(0)
        no_backup, no_restore = self.ctl.why_no_backup(), self.ctl.why_no_restore()
        self.backup_button.setEnabled(not no_backup)
        self.backup_button.setToolTip(no_backup or "A backup made now, kept until you delete it")
        self.note.setText(" ".join(dict.fromkeys(t for t in (no_restore, no_backup) if t)))
        self.note.setVisible(bool(self.note.text()))
        self._on_selection_changed()

    def selected(self) -> BackupInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.backups[rows[0].row()] if rows else None

    def _on_selection_changed(self) -> None:
        self.restore_button.setEnabled(self.selected() is not None and not self.ctl.why_no_restore())

    def ask_restore(self) -> QMessageBox | None:
        """Ask before restoring the selected backup (the question says what happens to the present state)."""
        backup = self.selected()
        if backup is None or self.ctl.why_no_restore():
            return None
        when = backup.created.astimezone().strftime("%Y-%m-%d %H:%M")
        question = f"Put the backup of {when} ({why_text(backup)}) back into the project?"
        box = QMessageBox(QMessageBox.Icon.Question, "Restore this backup?", question, parent=self)
        box.setInformativeText(
            "The project will hold what it held then; later changes leave it. What it holds now is backed up first "
            "(listed here as “before a restore”), so you can go back."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Cancel)
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: self._restore(backup) if button is restore else None)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.confirm = box
        return box

    def _restore(self, backup: BackupInfo) -> None:
        self.restore_button.setEnabled(False)
        job = self.ctl.restore(backup)
        if job is not None:
            job.finished.connect(self.refresh)

    def back_up_now(self) -> None:
        self.backup_button.setEnabled(False)
        job = self.ctl.back_up_now()
        if job is not None:
            job.finished.connect(self.refresh)
        else:
            self.refresh()
