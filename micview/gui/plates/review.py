"""The review queue beside the grid: filter and order combos, the wells in queue order, and the legend.

The queue is rebuilt when the plate, filter or order changes, never when a score is written: a well scored
in "Unscored" stays in place until the filter is chosen again, so auto-advance walks a stable list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from micview.gui.plates.grid import class_color, well_color
from micview.gui.plates.model import FILTERS, ORDERS, WellState, class_counts, queue, scored_count


def _swatch(color: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(color)
    return QIcon(pixmap)


def describe(state: WellState) -> str:
    if state.label is None:
        return f"{state.well}   no prediction"
    how = "you" if state.scored else f"model {state.confidence:.0%}" if state.confidence is not None else "model"
    return f"{state.well}   {state.label} ({how}){'  · changed' if state.changed else ''}"


class ReviewPanel(QWidget):
    """Emits ``well_chosen(well)`` and ``queue_changed()`` (after a new filter/order)."""

    well_chosen = Signal(str)
    queue_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[str, WellState] = {}
        self.classes: list[str] = []
        self.wells: list[str] = []
        self.legend = QLabel(textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.legend.setStyleSheet("padding: 4px;")
        self.filter_combo = QComboBox()
        self.filter_combo.addItems(FILTERS)
        self.order_combo = QComboBox()
        self.order_combo.addItems(ORDERS)
        self.order_combo.setToolTip("Review order: likely crystals first, then the wells the model is least sure of")
        self.count = QLabel()
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMaximumWidth(360)
        col = QVBoxLayout(self)
        col.setContentsMargins(4, 4, 4, 4)
        col.addWidget(self.legend)
        col.addWidget(QLabel("<b>Queue</b>"))
        col.addWidget(self.filter_combo)
        col.addWidget(self.order_combo)
        col.addWidget(self.count)
        col.addWidget(self.list, 1)
        self.filter_combo.currentTextChanged.connect(self.rebuild)
        self.order_combo.currentTextChanged.connect(self.rebuild)
        self.list.currentTextChanged.connect(self._on_current_text_changed)

    def set_states(self, states: dict[str, WellState], classes: list[str], *, rebuild: bool) -> None:
        self.states, self.classes = states, classes
        if rebuild:
            self.rebuild()
        else:
            self._refresh_items()
        self._show_legend()

    def rebuild(self, *_args: object) -> None:
        self.wells = queue(self.states, self.filter_combo.currentText(), self.order_combo.currentText())
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems(self.wells)
        self.list.blockSignals(False)
        self._refresh_items()
        self.queue_changed.emit()

    def set_current(self, well: str | None) -> None:
        row = self.wells.index(well) if well in self.wells else -1
        self.list.blockSignals(True)
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        if row >= 0:
            self.list.scrollToItem(self.list.item(row))

    def _refresh_items(self) -> None:
        for i, well in enumerate(self.wells):
            item: QListWidgetItem = self.list.item(i)
            state = self.states.get(well)
            if state is not None:
                item.setText(describe(state))
                item.setIcon(_swatch(well_color(state, self.classes)))
                item.setData(Qt.ItemDataRole.UserRole, well)
        self.count.setText(f"{len(self.wells)} wells in the queue")

    def _on_current_text_changed(self, _text: str) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.well_chosen.emit(item.data(Qt.ItemDataRole.UserRole) or item.text().split()[0])

    def _show_legend(self) -> None:
        counts = class_counts(self.states)
        scored, imaged = scored_count(self.states)
        rows = [
            f"<tr><td><span style='color:{class_color(c, self.classes).name()}; font-size:16px'>●</span></td>"
            f"<td>{c}</td><td align='right'>&nbsp;{counts.get(c, 0)}</td></tr>"
            for c in [*self.classes, *sorted(set(counts) - {*self.classes, "unscored"})]
        ]
        rows.append(f"<tr><td><span style='color:#6b7078; font-size:16px'>●</span></td><td>no prediction</td>"
                    f"<td align='right'>&nbsp;{counts.get('unscored', 0)}</td></tr>")  # fmt: skip
        self.legend.setText(
            f"<b>Wells</b><table cellspacing='2'>{''.join(rows)}</table>"
            f"<p>Scored by you: <b>{scored}</b> · unscored: <b>{imaged - scored}</b> · imaged: {imaged}<br>"
            "<span style='color:#8a9099'>ringed + ✓ = your score; paler = model less sure; "
            "dashed = no image</span></p>"
        )
