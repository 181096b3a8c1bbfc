"""The plate as a grid of round wells, painted in one widget (24, 96 or 384 wells; row letters, column numbers).

A well is filled with its outcome's colour: full colour with a tick for the user's score, the model's class
with its saturation falling with confidence otherwise; imaged wells with neither are grey; wells with no
image are dashed outlines. The current well has a bright ring; wells outside the review filter are dimmed.
In scoring mode the grid takes the number keys from the window's labelling shortcuts (ShortcutOverride).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from micview.core.plate_map import COLOURS
from micview.core.plates import LAYOUTS, well_name
from micview.gui.palette import color_for
from micview.gui.plates.model import WellState

SCORE_KEYS = {getattr(Qt.Key, f"Key_{k}"): k for k in range(1, 10)}
CLEAR_KEYS = {Qt.Key.Key_0, Qt.Key.Key_Backspace, Qt.Key.Key_Delete}
CURRENT = QColor("#FFB000")
EMPTY = QColor("#4a4e55")
NO_OUTCOME = QColor("#6b7078")


def class_color(label: str, classes: list[str]) -> QColor:
    """The plate-map PNG's colour for MARCO's classes (so screen and export agree), the palette's otherwise."""
    rgb = COLOURS.get(label)
    return QColor(*rgb) if rgb else color_for(label, classes)


def well_color(state: WellState, classes: list[str]) -> QColor:
    if state.label is None:
        return NO_OUTCOME
    color = class_color(state.label, classes)
    if state.scored:
        return color
    conf = state.confidence if state.confidence is not None else 0.0
    chance = 1.0 / max(2, len(classes))
    strength = max(0.12, min(1.0, (conf - chance) / (1.0 - chance)))
    h, s, v, _ = color.getHsvF()
    return QColor.fromHsvF(max(h, 0.0), s * strength, v * (0.55 + 0.45 * strength))


class PlateGrid(QWidget):
    """Emits ``well_clicked(well)``, ``well_opened(well)`` (double-click), ``score_key(k)`` (1–9) and ``clear_key``."""

    well_clicked = Signal(str)
    well_opened = Signal(str)
    score_key = Signal(int)
    clear_key = Signal()
    move = Signal(int)  # +1 / -1 along the queue

    def __init__(self) -> None:
        super().__init__()
        self.layout_size = 96
        self.states: dict[str, WellState] = {}
        self.classes: list[str] = []
        self.current: str | None = None
        self.highlighted: set[str] | None = None
        self.scoring = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(360, 240)

    def set_plate(self, layout: int, states: dict[str, WellState], classes: list[str]) -> None:
        self.layout_size, self.states, self.classes = layout, states, classes
        self.update()

    def set_current(self, well: str | None) -> None:
        self.current = well
        self.update()

    def set_highlighted(self, wells: set[str] | None) -> None:
        self.highlighted = wells
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(900, 620)

    # -- geometry -------------------------------------------------------------------------------------------
    def _geometry(self) -> tuple[float, float, float]:
        rows, cols = LAYOUTS[self.layout_size]
        margin = 28.0
        cell = min((self.width() - margin - 8) / cols, (self.height() - margin - 8) / rows)
        left = margin + (self.width() - margin - 8 - cell * cols) / 2
        return cell, left, margin

    def well_rect(self, well: str) -> QRectF:
        from micview.core.plates import well_position

        cell, left, top = self._geometry()
        r, c = well_position(well)
        return QRectF(left + c * cell, top + r * cell, cell, cell)

    def well_at(self, pos: QPointF) -> str | None:
        rows, cols = LAYOUTS[self.layout_size]
        cell, left, top = self._geometry()
        c, r = int((pos.x() - left) // cell), int((pos.y() - top) // cell)
        return well_name(r, c) if 0 <= r < rows and 0 <= c < cols and pos.x() >= left and pos.y() >= top else None

    # -- painting -------------------------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rows, cols = LAYOUTS[self.layout_size]
        cell, left, top = self._geometry()
        font = p.font()
        font.setPixelSize(max(9, min(14, int(cell * 0.3))))
        p.setFont(font)
        p.setPen(QColor("#9aa0a6"))
        for c in range(cols):
            p.drawText(QRectF(left + c * cell, 4, cell, top - 6), Qt.AlignmentFlag.AlignCenter, str(c + 1))
        for r in range(rows):
            p.drawText(QRectF(0, top + r * cell, left - 6, cell), Qt.AlignmentFlag.AlignRight |
                       Qt.AlignmentFlag.AlignVCenter, chr(ord("A") + r))  # fmt: skip
        for r in range(rows):
            for c in range(cols):
                self._paint_well(p, well_name(r, c), cell)
        p.end()

    def _paint_well(self, p: QPainter, well: str, cell: float) -> None:
        box = self.well_rect(well).adjusted(cell * 0.08, cell * 0.08, -cell * 0.08, -cell * 0.08)
        state = self.states.get(well)
        if state is None:
            p.setPen(QPen(EMPTY, 1.2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(box)
            return
        color = well_color(state, self.classes)
        if self.highlighted is not None and well not in self.highlighted:
            color.setAlphaF(0.25)
        p.setPen(QPen(QColor("#d9dce0") if state.scored else QColor("#2a2c31"), 1.5))
        p.setBrush(color)
        p.drawEllipse(box)
        if state.scored and cell >= 18:
            p.setPen(QPen(QColor("#ffffff"), max(1.5, cell * 0.05)))
            cx, cy, u = box.center().x(), box.center().y(), box.width() * 0.14
            p.drawPolyline([QPointF(cx - u, cy), QPointF(cx - u * 0.2, cy + u * 0.8), QPointF(cx + u * 1.2, cy - u)])
        if well == self.current:
            p.setPen(QPen(CURRENT, max(2.5, cell * 0.07)))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(box.adjusted(-cell * 0.05, -cell * 0.05, cell * 0.05, cell * 0.05))

    # -- input ----------------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        well = self.well_at(event.position())
        if well is not None and well in self.states:
            self.well_clicked.emit(well)
        self.setFocus()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        well = self.well_at(event.position())
        if well is not None and well in self.states:
            self.well_opened.emit(well)

    def event(self, event: QEvent) -> bool:
        # Number keys are also the window's "label the selection" shortcuts: in scoring mode they are ours.
        if event.type() == QEvent.Type.ShortcutOverride and (
            (self.scoring and self._is_scoring_key(event)) or event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            event.accept()
            return True
        return super().event(event)

    @staticmethod
    def _is_scoring_key(event: QKeyEvent) -> bool:  # type: ignore[override]
        plain = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier == Qt.KeyboardModifier.NoModifier
        return plain and (event.key() in SCORE_KEYS or event.key() in CLEAR_KEYS)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if self.scoring and self._is_scoring_key(event):
            if key in SCORE_KEYS:
                self.score_key.emit(SCORE_KEYS[key])
            else:
                self.clear_key.emit()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Space):
            self.move.emit(1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.move.emit(-1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current:
            self.well_opened.emit(self.current)
        else:
            super().keyPressEvent(event)
