"""The status bar's lasting message: what just happened (an import, a label import, an export) and the one
click that follows from it ("Show the files that could not be read", "Compute embeddings").

Unlike ``QStatusBar.showMessage`` it stays until the next notice or until closed, so nothing important
flashes by unread.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from micview.gui.state import Notice
from micview.gui.widgets import elided_label


class NoticeBar(QWidget):
    """``show(notice)``; action ids are looked up in ``handlers`` (unknown ids are not shown)."""

    def __init__(self, handlers: dict[str, Callable[[], object]]) -> None:
        super().__init__()
        self.handlers = handlers
        self.label = elided_label("", Qt.TextElideMode.ElideRight)
        self.buttons: list[QToolButton] = []
        self.close_button = QToolButton(text="✕", autoRaise=True, toolTip="Dismiss")
        self.close_button.clicked.connect(self.clear)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(4, 0, 4, 0)
        self.row.addWidget(self.label, 1)
        self.row.addWidget(self.close_button)
        self.clear()

    def show_notice(self, notice: Notice) -> None:
        self.clear()
        self.label.setText(notice.text)
        for text, action in notice.actions:
            handler = self.handlers.get(action)
            if handler is None:
                continue
            button = QToolButton(text=text, autoRaise=False)
            button.setStyleSheet("QToolButton { color: #6ea8ff; padding: 0 6px; }")
            button.clicked.connect(handler)
            self.row.insertWidget(self.row.count() - 1, button)
            self.buttons.append(button)
        self.close_button.show()
        self.setVisible(True)

    def clear(self) -> None:
        for button in self.buttons:
            self.row.removeWidget(button)
            button.deleteLater()
        self.buttons = []
        self.label.setText("")
        self.close_button.hide()
