"""Small widgets that keep the window within a laptop screen whatever the labels: elided labels and buttons,
combos that do not grow with their longest item.

Why: a task of 30 classes with 60-character names, or a model id of 80 characters, must never widen the
window. These widgets ask for little width and elide what does not fit (full text in the tooltip).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """One line of plain text, elided (by default in the middle) to the width it gets."""

    def __init__(self, text: str = "", mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(20)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if len(text) > 20 else "")
        super().setText(text)
        self.update()

    def text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:
        return QSize(20, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        painter.setPen(self.palette().color(self.foregroundRole()))
        elided = self.fontMetrics().elidedText(self._full, self._mode, rect.width())
        if len(elided) < min(len(self._full), 6):
            return  # a letter or two and "…" say nothing: leave the space empty
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), elided)


def elided_label(text: str = "", mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle) -> ElidedLabel:
    return ElidedLabel(text, mode)


class ElidedButton(QPushButton):
    """A push button whose text is elided to its width (full text in the tooltip); asks for little width."""

    def __init__(self, text: str = "", max_width: int = 220, parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight, prefix: str = "") -> None:  # fmt: skip
        super().__init__(parent)
        self._full = text
        self._prefix = prefix  # always shown whole (e.g. the key number), the text after it is elided
        self._max = max_width
        self._mode = mode
        self.setMaximumWidth(max_width)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        text = self._prefix + self._full
        hint = QSize(self.fontMetrics().horizontalAdvance(text) + 28, super().sizeHint().height())
        return QSize(min(hint.width(), self._max), hint.height())

    minimum_width = 56

    def minimumSizeHint(self) -> QSize:
        return QSize(min(self.minimum_width, self.sizeHint().width()), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        fm = self.fontMetrics()
        width = max(10, self.width() - 22 - fm.horizontalAdvance(self._prefix))
        rest = fm.elidedText(self._full, self._mode, width)
        super().setText(self._prefix + (rest if rest != "…" else ""))


def compact_combo(chars: int = 10, *, editable: bool = False) -> QComboBox:
    """A combo box as wide as ``chars`` characters whatever its items (the popup still shows them whole)."""
    combo = QComboBox(editable=editable)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    combo.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
    return combo


def wrapping_label(text: str = "", style: str = "") -> QLabel:
    """A label that wraps and can be as narrow as its parent wants (long words are broken by Qt)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if style:
        label.setStyleSheet(style)
    return label
