"""The welcome page shown before a project is open: start a project, open one, a recent one, or the sample."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from micview import __version__


class WelcomePage(QWidget):
    new_requested = Signal()
    open_requested = Signal()
    sample_requested = Signal()
    recent_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        card = QFrame(objectName="welcomeCard")
        card.setStyleSheet("#welcomeCard { background: #202226; border: 1px solid #33363b; border-radius: 10px; }")
        card.setMaximumWidth(900)
        card.setMinimumWidth(560)
        title = QLabel("<span style='font-size:28pt; font-weight:600'>micview</span>"
                       f"<span style='color:#8a9099'>&nbsp;&nbsp;{__version__}</span>")  # fmt: skip
        subtitle = QLabel("Browse, label, map and search your micrographs — offline, on this computer.")
        subtitle.setStyleSheet("color: #a0a6ad; font-size: 11pt;")
        self.new_button = self._big("New project from folder…", "Import a folder, with subfolders")
        self.open_button = self._big("Open project…", "A .micview project file")
        self.sample_button = self._big("Explore the sample", "48 generated images, labelled")
        self.recent = QListWidget()
        self.recent.setStyleSheet("QListWidget { border: none; background: transparent; }"
                                  "QListWidget::item { padding: 6px; }")  # fmt: skip
        buttons = QHBoxLayout()
        for b in (self.new_button, self.open_button, self.sample_button):
            buttons.addWidget(b)
        col = QVBoxLayout(card)
        col.setContentsMargins(32, 28, 32, 28)
        col.setSpacing(14)
        col.addWidget(title)
        col.addWidget(subtitle)
        col.addLayout(buttons)
        self.recent_title = QLabel("<b>Recent projects</b>")
        col.addWidget(self.recent_title)
        col.addWidget(self.recent, 1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.new_button.clicked.connect(self.new_requested.emit)
        self.open_button.clicked.connect(self.open_requested.emit)
        self.sample_button.clicked.connect(self.sample_requested.emit)
        self.recent.itemActivated.connect(lambda item: self.recent_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.recent.itemClicked.connect(lambda item: self.recent_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))

    @staticmethod
    def _big(text: str, detail: str) -> QPushButton:
        b = QPushButton(f"{text}\n{detail}")
        b.setMinimumHeight(72)
        b.setMinimumWidth(160)
        b.setStyleSheet("QPushButton { text-align: left; padding: 10px 14px; font-size: 10.5pt; }")
        return b

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            path = Path(p)
            item = QListWidgetItem(f"{path.stem}    —    {path.parent}")
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(p)
            if not path.exists():
                item.setText(item.text() + "   (not found)")
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(item)
        if not paths:
            self.recent.addItem(QListWidgetItem("No recent projects yet."))
