"""The dialogs around a project's safety, for the banner and the File menu: where to save what is readable, where
to save a copy, the backups, and the question "open the new file now?" when that work is done.

:class:`SafetyActions` is made by whoever shows them (the banner, the window's menus) with the widget the dialogs
belong to; the work itself is :class:`~micview.gui.controllers.safety.SafetyController`'s. Each ``ask_*`` takes
the destination directly too (tests, scripts), skipping the file dialog.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from micview.core.store import SalvageReport
from micview.gui.backups_dialog import BackupsDialog
from micview.gui.controllers.safety import SafetyController, salvage_text
from micview.gui.session import Session
from micview.gui.workers import Job

_FILTER = "micview projects (*.micview)"


def suggested(source: Path, tail: str) -> Path:
    """``<name>-<tail>.micview`` beside the project, or in the user's documents when its folder is read-only."""
    folder = source.parent
    if not os.access(folder, os.W_OK):
        folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or Path.home())
    return folder / f"{source.stem}-{tail}.micview"


class SafetyActions:
    """Save what is readable…, Save a copy…, Backups…, Check now — with their dialogs parented to ``parent``."""

    def __init__(self, session: Session, parent: QWidget) -> None:
        self.session, self.parent = session, parent
        self.ctl = SafetyController(session)
        self.backups_dialog: BackupsDialog | None = None
        self.offer: QMessageBox | None = None  # "open the new project?" after a salvage or a copy

    def _ask_path(self, title: str, default: Path) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, str(default), _FILTER)
        return Path(path) if path else None

    def ask_salvage(self, dest: Path | None = None) -> Job | None:
        """Choose a new file and copy every readable row of the damaged project into it (a background job)."""
        source = self.ctl.state.backups_target()
        if source is None:
            return None
        dest = dest or self._ask_path("Save what is readable into a new project", suggested(source, "salvaged"))
        return self.ctl.salvage(dest, then=self._offer_salvaged) if dest is not None else None

    def ask_save_copy(self, dest: Path | None = None) -> Job | None:
        """File ▸ Save a copy…: one consistent file (labels still in the ``-wal`` included), in the background."""
        project = self.session.project
        if project is None:
            return None
        dest = dest or self._ask_path("Save a copy of the project", suggested(project.path, "copy"))
        if dest is None:
            return None
        offer = project.read_only and not self.ctl.state.damaged  # a copy of a read-only project is where to work
        return self.ctl.save_copy(dest, then=self._offer_copy if offer else None)

    def check_now(self) -> Job | None:
        return self.ctl.check_now()

    def show_backups(self) -> BackupsDialog | None:
        """The backups of the open project (or of the one that could not be opened)."""
        if self.ctl.state.backups_target() is None:
            self.session.errors.report("No project", "Open a project to see its backups.", popup=False)
            return None
        if self.backups_dialog is None:
            self.backups_dialog = BackupsDialog(self.session, self.parent)
        self.backups_dialog.refresh()
        self.backups_dialog.show()
        self.backups_dialog.raise_()
        return self.backups_dialog

    # -- "open it now?" -------------------------------------------------------------------------------------------
    def _offer_salvaged(self, report: SalvageReport) -> None:
        self._offer_open("Saved what is readable", salvage_text(report), report.dest)

    def _offer_copy(self, copy: Path) -> None:
        self._offer_open("Copy saved", f"Saved a copy as {copy}. The copy can be changed: labels, imports and "
                         "embeddings are saved in it.", copy)  # fmt: skip

    def _offer_open(self, title: str, text: str, path: Path) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=self.parent)
        box.setInformativeText(f"Open {path.name} now (this project closes)?")
        box.setStandardButtons(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Cancel).setText("Not now")
        open_button = box.addButton("Open it", QMessageBox.ButtonRole.AcceptRole)
        box.buttonClicked.connect(lambda button: self._open(path) if button is open_button else None)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.offer = box

    def _open(self, path: Path) -> Any:
        from micview.gui.controllers.project import ProjectController

        return ProjectController(self.session).open(path)
