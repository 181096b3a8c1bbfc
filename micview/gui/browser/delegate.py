"""Paints one thumbnail cell: the picture, its name, and small chips for label, prediction and search score.

Painting chips in a delegate (not widgets per cell) keeps the grid virtual: cost depends only on what is on
screen, whatever the number of images.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from micview.gui.browser.model import ID_ROLE, LABEL_ROLE, PRED_ROLE, SCORE_ROLE
from micview.gui.palette import ACCENT, RESULT, color_for

Index = QModelIndex | QPersistentModelIndex
PAD = 6


def caption(name: str, fm: QFontMetrics, width: int) -> str:
    """The file name as it fits ``width``: whole; else without its extension (images of one folder share it);
    else the stem elided in the middle, keeping its end (where numbered files differ: ``0…0123``)."""
    if fm.horizontalAdvance(name) <= width:
        return name
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    if fm.horizontalAdvance(stem) <= width:
        return stem
    return fm.elidedText(stem, Qt.TextElideMode.ElideMiddle, width)


class ThumbnailDelegate(QStyledItemDelegate):
    def __init__(self, size: int = 128) -> None:
        super().__init__()
        self.size = size
        self.classes: list[str] = []
        self.is_new: Callable[[object], bool] = lambda _id: False  # watch mode's "new" chip (watch_state)
        self._chip_font = QFont()
        self._chip_font.setPointSizeF(max(7.0, self._chip_font.pointSizeF() - 1.5))
        self._chip_font.setBold(True)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(self.size + 2 * PAD, self.size + 2 * PAD + option.fontMetrics.height() + 2)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cell = option.rect.adjusted(2, 2, -2, -2)
        self._background(painter, option, cell)
        pic = QRect(cell.x() + PAD - 2, cell.y() + PAD - 2, self.size, self.size)
        self._picture(painter, index.data(Qt.ItemDataRole.DecorationRole), pic)
        self._name(painter, option, index, cell, pic)
        self._chips(painter, index, pic)
        painter.restore()

    @staticmethod
    def _background(painter: QPainter, option: QStyleOptionViewItem, cell: QRect) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if not (selected or hovered):
            return
        color = QColor(ACCENT)
        color.setAlpha(70 if selected else 25)
        painter.setPen(QPen(QColor(ACCENT), 2) if selected else Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(cell), 6, 6)

    @staticmethod
    def _picture(painter: QPainter, pixmap: QPixmap | None, area: QRect) -> None:
        if pixmap is None or pixmap.isNull():
            painter.fillRect(area, QColor("#3a3d42"))
            painter.setPen(QColor("#9aa0a6"))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "no preview")
            return
        size = pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(area.center())
        painter.drawPixmap(target, pixmap)

    @staticmethod
    def _name(painter: QPainter, option: QStyleOptionViewItem, index: Index, cell: QRect, pic: QRect) -> None:
        text_rect = QRect(cell.x() + 2, pic.bottom() + 3, cell.width() - 4, option.fontMetrics.height())
        name = caption(str(index.data()), option.fontMetrics, text_rect.width())
        painter.setPen(option.palette.text().color())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)

    def _chips(self, painter: QPainter, index: Index, pic: QRect) -> None:
        painter.setFont(self._chip_font)
        label = index.data(LABEL_ROLE)
        if label:
            self._chip(painter, label, color_for(label, self.classes), pic.bottomLeft(), left=True, bottom=True)
        pred = index.data(PRED_ROLE)
        if pred:
            text = pred[0] if pred[1] is None else f"{pred[0]} {pred[1]:.0%}"
            self._chip(painter, "◆ " + text, color_for(pred[0], self.classes), pic.topRight(), outline=True)
        score = index.data(SCORE_ROLE)
        if score is not None:
            self._chip(painter, f"{score:.3f}", QColor(RESULT), pic.topLeft(), left=True, dark_text=True)
        if self.is_new(index.data(ID_ROLE)):
            self._chip(painter, "NEW", QColor("#ffb020"), pic.bottomRight(), bottom=True, dark_text=True)

    def _chip(
        self, painter: QPainter, text: str, color: QColor, anchor: object, *, left: bool = False,
        bottom: bool = False, outline: bool = False, dark_text: bool = False,
    ) -> None:  # fmt: skip
        fm = QFontMetrics(self._chip_font)
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, self.size - 8)
        w, h = fm.horizontalAdvance(text) + 10, fm.height() + 2
        x = anchor.x() + 3 if left else anchor.x() - w - 3  # type: ignore[attr-defined]
        y = anchor.y() - h - 3 if bottom else anchor.y() + 3  # type: ignore[attr-defined]
        rect = QRectF(x, y, w, h)
        painter.setPen(QPen(color, 1.5) if outline else Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 22, 26, 200) if outline else color)
        painter.drawRoundedRect(rect, h / 2, h / 2)
        painter.setPen(QColor("#111") if dark_text else QColor("white"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
