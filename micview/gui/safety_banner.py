"""The banner above the workspace when the open project is read-only: why, what still works, what to do.

Two kinds. A **damaged** project (red): which parts are damaged in a user's words (the check's own words in the
tooltip), that micview writes nothing into it, and three ways on: *Save what is readable…* (a new project with
every readable row, then offered to open), *Check now* (the full check) and *Backups…*. A project in a
**read-only** place (amber): why (its folder, the file, the medium), that browsing and exports work, and *Save a
copy…* to somewhere writable. The banner observes :class:`~micview.gui.safety.ProjectSafety` only.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from micview.gui.safety import project_safety
from micview.gui.safety_dialogs import SafetyActions
from micview.gui.session import Session
from micview.gui.widgets import wrapping_label

_STYLE = {
    "damaged": "#safetyBanner { background: #3d1f22; border: 1px solid #a8474d; border-left: 6px solid #e5565d; }",
    "read_only": "#safetyBanner { background: #3a3020; border: 1px solid #8d7339; border-left: 6px solid #e0a83a; }",
}


class ProjectBanner(QFrame):
    """Hidden while the project can be written (or none is open)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.setObjectName("safetyBanner")
        self.session = session
        self.safety = project_safety(session)
        self.safety_actions = SafetyActions(session, self)
        self.kind = ""
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; background: transparent; border: none;")
        self.text = wrapping_label("", "background: transparent; border: none;")
        self.salvage_button = QPushButton("Save what is readable…")
        self.salvage_button.setToolTip("Copy every readable row into a new project file; this one stays as it is")
        self.check_button = QPushButton("Check now")
        self.check_button.setToolTip("The full check (micview check): which parts of the file are damaged")
        self.backups_button = QPushButton("Backups…")
        self.backups_button.setToolTip("This project's backups: restore one")
        self.copy_button = QPushButton("Save a copy…")
        self.copy_button.setToolTip("A copy you can change, saved where you can write (e.g. your documents)")
        self.salvage_button.clicked.connect(lambda: self.safety_actions.ask_salvage())
        self.check_button.clicked.connect(self._check)
        self.backups_button.clicked.connect(lambda: self.safety_actions.show_backups())
        self.copy_button.clicked.connect(lambda: self.safety_actions.ask_save_copy())
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.title)
        words.addWidget(self.text)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 8, 6)
        row.addLayout(words, 1)
        for button in (self.salvage_button, self.check_button, self.backups_button, self.copy_button):
            row.addWidget(button)
        self.safety.changed.connect(self._on_safety_changed)
        self._on_safety_changed()

    def _on_safety_changed(self) -> None:
        s = self.safety
        self.kind = "" if not s.read_only else "damaged" if s.damaged else "read_only"
        self.setVisible(bool(self.kind))
        if not self.kind:
            return
        self.setStyleSheet(_STYLE[self.kind])
        damaged = self.kind == "damaged"
        for button in (self.salvage_button, self.check_button, self.backups_button):
            button.setVisible(damaged)
        self.copy_button.setVisible(not damaged)
        if damaged:
            self.title.setText("This project file is damaged. micview opened it read-only and writes nothing into it.")
            self.text.setText(
                f"{s.damage_text()} Browse and export what is readable; to go on working, save what is readable "
                "into a new project, or restore a backup."
            )
            self.setToolTip(s.details())
        else:
            self.title.setText(f"This project is open read-only because {s.reason}.")
            self.text.setText(
                "You can browse, search and export to other folders; labels, imports and embeddings cannot be saved "
                "here. To change the project, save a copy where you can write and open the copy."
            )
            self.setToolTip(str(s.project.path) if s.project is not None else "")

    def _check(self) -> None:
        job = self.safety_actions.check_now()
        if job is None:
            return
        self.check_button.setEnabled(False)
        self.check_button.setText("Checking…")
        job.finished.connect(self._on_check_finished)

    def _on_check_finished(self) -> None:
        self.check_button.setEnabled(True)
        self.check_button.setText("Check now")
