"""The map's legend: a column beside the plot (never over the points) that scrolls and collapses.

Why not pyqtgraph's LegendItem: drawn inside the view box it covers the densest points, is clipped at the
right edge, and cannot scroll through 20+ classes.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QToolButton, QVBoxLayout, QWidget

WIDTH = 170


def swatch(color: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(color)
    return QIcon(pixmap)


class MapLegend(QWidget):
    """``set_entries(title, [(text, colour), …], more)``; the ▸/▾ button collapses it to a thin strip."""

    def __init__(self) -> None:
        super().__init__()
        self.toggle = QToolButton(text="Legend ▾", autoRaise=True, checkable=True, checked=True)
        self.toggle.setToolTip("Show or hide the legend")
        self.list = QListWidget()
        self.list.setIconSize(QSize(12, 12))
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setStyleSheet("QListWidget { border: none; background: #17181b; } "
                                "QListWidget::item { padding: 1px 2px; }")  # fmt: skip
        self.list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        col = QVBoxLayout(self)
        col.setContentsMargins(2, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        col.addWidget(self.list, 1)
        self.toggle.toggled.connect(self._on_toggled)
        self._on_toggled(True)

    def _on_toggled(self, shown: bool) -> None:
        self.list.setVisible(shown)
        self.toggle.setText("Legend ▾" if shown else "◂")
        self.setFixedWidth(WIDTH if shown else 28)

    def set_entries(self, title: str, entries: list[tuple[str, QColor]], more: int = 0) -> None:
        self.list.clear()
        for text, color in entries:
            item = QListWidgetItem(swatch(color), text)
            item.setToolTip(text)
            self.list.addItem(item)
        if more > 0:
            self.list.addItem(QListWidgetItem(f"… {more} more"))
        self.setVisible(bool(entries))
        self.toggle.setToolTip(f"Legend of {title}: show or hide" if title else "Show or hide the legend")

    def texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]
