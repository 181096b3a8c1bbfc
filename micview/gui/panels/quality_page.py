"""One page of the Quality view: a table of rows (the images side by side, what was found beside them) and the
page's action buttons, enabled while rows are chosen. Choosing rows selects their images in the session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QItemSelectionModel, QPoint, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from micview.gui.controllers.analysis import AnalysisController
from micview.gui.panels.quality_rows import Row
from micview.gui.session import Session
from micview.gui.widgets import wrapping_label

THUMB = 72


class PageOwner(Protocol):
    """What a page uses of the view that holds it."""

    session: Session
    ctl: AnalysisController

    def name(self, image_id: int) -> str: ...


class IssuePage(QWidget):
    """A table of rows (thumbnails, what is wrong) and the page's action buttons."""

    def __init__(self, view: PageOwner, intro: str, strip: int = 1, none: str = "Nothing found.") -> None:
        super().__init__()
        self.view = view
        self.strip = strip  # thumbnails side by side per row
        self.none = none  # what an empty page says
        self.rows: list[Row] = []
        self.intro = wrapping_label(intro, "color: #a0a6ad;")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["", "what was found"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(True)
        self.table.setIconSize(QSize((THUMB + 4) * strip, THUMB))
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 6)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(0, (THUMB + 4) * strip + 10)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_rows_selected)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.empty = wrapping_label("", "color: #a0a6ad; padding: 12px;")
        col = QVBoxLayout(self)
        col.addWidget(self.intro)
        col.addWidget(self.table, 1)
        col.addWidget(self.empty)
        col.addStretch(0)
        col.addLayout(self.buttons)
        self.action_buttons: list[QPushButton] = []

    def add_action(self, text: str, tip: str, act: Callable[[list[Row]], object]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setEnabled(False)
        button.clicked.connect(lambda: act(self.selected()))
        self.buttons.addWidget(button)
        self.action_buttons.append(button)
        return button

    def set_rows(self, rows: list[Row], note: str = "") -> None:
        keep = sorted({i.row() for i in self.table.selectedIndexes()})
        self.rows = rows
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            icon = QTableWidgetItem()
            icon.setIcon(QIcon(self._strip(row.ids)))
            icon.setToolTip("\n".join(self.view.name(i) for i in row.ids))
            text = QTableWidgetItem(row.text)
            text.setToolTip(row.text)
            self.table.setItem(r, 0, icon)
            self.table.setItem(r, 1, text)
        for r in keep:  # the same rows stay chosen when the texts change (labels accepted, tags added)
            if r < len(rows):
                self._add_row_to_selection(r)
        self.table.blockSignals(False)
        self.table.setVisible(bool(rows))
        self.empty.setText(note or self.none)
        self.empty.setVisible(not rows)
        self._update_actions()

    def _add_row_to_selection(self, r: int) -> None:
        model = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        model.select(self.table.model().index(r, 0), flags)

    def _strip(self, ids: list[int]) -> QPixmap:
        out = QPixmap((THUMB + 4) * self.strip, THUMB)
        out.fill(QColor(0, 0, 0, 0))
        painter = QPainter(out)
        for k, image_id in enumerate(ids[: self.strip]):
            pix = self.view.session.thumbnails.get(int(image_id))
            if pix is None:
                continue
            pix = pix.scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            painter.drawPixmap(k * (THUMB + 4) + (THUMB - pix.width()) // 2, (THUMB - pix.height()) // 2, pix)
        if len(ids) > self.strip:  # how many more, on a dark chip (readable on any thumbnail)
            text = f"+{len(ids) - self.strip}"
            box = painter.fontMetrics().boundingRect(text).adjusted(-4, -1, 4, 1)
            box.moveBottomRight(out.rect().bottomRight() - QPoint(2, 2))
            painter.fillRect(box, QColor(20, 21, 24, 210))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.end()
        return out

    def select_rows(self, rows: list[int]) -> None:
        """Choose exactly these rows (as clicks would; scripts and tests)."""
        self.table.clearSelection()
        for r in rows:
            self._add_row_to_selection(r)

    def selected(self) -> list[Row]:
        return [self.rows[r] for r in sorted({i.row() for i in self.table.selectedIndexes()}) if r < len(self.rows)]

    def _update_actions(self) -> None:
        chosen = bool(self.selected())
        for button in self.action_buttons:
            button.setEnabled(chosen)

    def _on_rows_selected(self) -> None:
        self._update_actions()
        ids = [i for row in self.selected() for i in row.ids]
        if ids:
            self.view.ctl.select(ids, source=self.view)
