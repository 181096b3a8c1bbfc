"""The embedding map: every image a point, linked to the session; interactive at a million points.

The points are drawn by one item that shows each point when zoomed in and a density picture when zoomed out
(:mod:`micview.gui.map`); colours are a code per point and a small table, never a brush per point. Clicking,
box and lasso write to the session's :class:`Selection` (exact against every point, not what is drawn);
selecting elsewhere marks points here through ``Selection.changed``; the points come from ``session.map``.
The legend sits beside the plot (never over the points) and collapses.

Hooks for other views: :meth:`ScatterWidget.highlight` marks a set of images under a key with its own style
(search results and the selection are two such marks); :meth:`ScatterWidget.add_overlay` adds any pyqtgraph
item (a trajectory line, labels) in map coordinates; :meth:`ScatterWidget.positions` gives images' map
coordinates to draw them with; :meth:`ScatterWidget.append_points` adds images to the shown map without
touching the rest (``session.map.appended``: watch mode's new images), where a new map (``session.map.changed``)
is drawn and fitted anew.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from micview.gui.map import colouring
from micview.gui.map.marks import MapMarksItem, MarkStyle
from micview.gui.map.point_index import PointPicker, RowIndex
from micview.gui.map.points_item import MapPointsItem
from micview.gui.map.region import in_polygon
from micview.gui.map_legend import MapLegend
from micview.gui.palette import RESULT, SELECTED
from micview.gui.scatter_tools import SelectViewBox
from micview.gui.session import Session
from micview.gui.widgets import compact_combo, elided_label

# name -> (values by image id, ordered classes or None for numeric)
ColumnProvider = Callable[[str], tuple[dict[int, Any], list[str] | None]]
# (name, image ids) -> values of those images that have one
PartProvider = Callable[[str, np.ndarray], dict[int, Any]]
MAX_LEGEND = 200
SELECTION = MarkStyle(SELECTED, pad=4, width=2, z=2)
RESULTS = MarkStyle(RESULT, pad=9, width=2, z=1)
OVERLAY_Z = 5.0  # above the points (0), below the marks (10)


class HoverCard(QWidget):
    """Floating thumbnail + name shown next to the cursor over a point."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("hoverCard")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet("#hoverCard { background: rgba(20,22,26,235); border: 1px solid #555; border-radius: 4px; }"
                           "QLabel { color: #eee; }")  # fmt: skip
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.image, self.caption = QLabel(), QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(5, 5, 5, 4)
        layout.setSpacing(3)
        layout.addWidget(self.image)
        layout.addWidget(self.caption)
        self.hide()

    def show_at(self, pos: QPoint, pixmap: QPixmap | None, text: str) -> None:
        if pixmap is not None and not pixmap.isNull():
            smooth = Qt.TransformationMode.SmoothTransformation
            self.image.setPixmap(pixmap.scaled(160, 160, Qt.AspectRatioMode.KeepAspectRatio, smooth))
        self.image.setVisible(pixmap is not None and not pixmap.isNull())
        self.caption.setText(text)
        self.adjustSize()
        parent = self.parentWidget()
        if parent is None:
            return
        x = pos.x() + 16 if pos.x() + 16 + self.width() < parent.width() else pos.x() - 16 - self.width()
        y = min(pos.y() + 16, parent.height() - self.height() - 4)
        self.move(max(4, x), max(4, y))
        self.show()
        self.raise_()


class ScatterWidget(QWidget):
    method_requested = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.selection, self.results = session.selection, session.results
        self.ids = np.zeros(0, np.int64)
        self.xy = np.zeros((0, 2), np.float32)
        self._shown_ids: np.ndarray | None = None
        self._index = RowIndex(self.ids)
        self._picker: PointPicker | None = None
        self._own_rows: np.ndarray | None = None
        self.thumbnail_for: Callable[[int], QPixmap | None] = session.thumbnails.get
        self.name_for: Callable[[int], str] = session.catalog.name
        self.columns: ColumnProvider = lambda _n: ({}, [])
        self.columns_of: PartProvider | None = None  # values of a column for a few images (points appended)
        self._colourings: dict[str, colouring.Colouring] = {}  # by column name, until the data may have changed
        self._build()
        self.selection.changed.connect(self._on_selection_changed)
        self.results.changed.connect(self._on_results_changed)
        session.map.changed.connect(self._on_map_changed)
        session.map.appended.connect(self._on_map_appended)
        for signal in (session.labels_changed, session.project_changed):
            signal.connect(lambda _arg: self.forget_colours())
        for plain_signal in (session.tasks_changed, session.fields_changed, session.catalog.changed):
            plain_signal.connect(self.forget_colours)

    # -- construction -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.method_combo = QComboBox()
        self.method_combo.addItem("UMAP", "umap")
        self.method_combo.addItem("PCA", "pca")
        self.method_combo.setCurrentIndex(self.method_combo.findData(self.session.map.method))
        self.color_combo = compact_combo(6)
        self.color_combo.setToolTip("Colour the points by a label task, a prediction or a metadata column")
        self.status = elided_label()
        self.status.setStyleSheet("color: #9aa0a6;")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        self.method_combo.setToolTip("How the embeddings are laid out in 2-D")
        for w in (self.method_combo, QLabel("Colour"), self.color_combo):
            bar.addWidget(w)
        bar.setStretchFactor(self.color_combo, 2)
        self.mode_group = QButtonGroup(self)
        modes = (
            ("pan", "Pan", "Pan and zoom (wheel)"),
            ("rect", "Box", "Rectangle selection (middle-drag pans, wheel zooms)"),
            ("lasso", "Lasso", "Lasso selection (middle-drag pans, wheel zooms)"),
        )
        for mode, text, tip in modes:
            button = QToolButton(text=text, checkable=True, toolTip=tip, objectName=f"mode_{mode}")  # type: ignore[call-arg]
            self.mode_group.addButton(button)
            bar.addWidget(button)
            button.toggled.connect(lambda on, m=mode: self.set_mode(m) if on else None)
        self.vb = SelectViewBox()
        self.mode_group.buttons()[1].setChecked(True)
        self.plot = pg.PlotWidget(viewBox=self.vb, background="#17181b")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.points = MapPointsItem()
        self.marks = MapMarksItem(self.points)
        self.points.setZValue(0)
        self.marks.setZValue(10)
        self.plot.addItem(self.points)
        self.plot.addItem(self.marks, ignoreBounds=True)
        self.legend = MapLegend()
        self.empty_label = pg.TextItem("", color="#9aa0a6", anchor=(0.5, 0.5))
        self.plot.addItem(self.empty_label, ignoreBounds=True)
        self.hover = HoverCard(self.plot)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.plot, 1)
        body.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)
        self._hover_timer = QTimer(self, singleShot=True, interval=25)
        self._hover_timer.timeout.connect(self._on_hover_timeout)
        self._hover_pos = QPointF()
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.vb.region_selected.connect(self._on_region_selected)
        self.color_combo.currentTextChanged.connect(self._on_color_changed)
        self.method_combo.currentIndexChanged.connect(lambda _i: self.method_requested.emit(self.method))

    # -- public -----------------------------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return str(self.method_combo.currentData())

    def set_mode(self, mode: str) -> None:
        self.vb.mode = mode
        for b in self.mode_group.buttons():
            b.setChecked(b.objectName() == f"mode_{mode}")

    def set_message(self, text: str) -> None:
        """A line above the plot (what is computing), or a centred note when there is no map."""
        self.status.setText(text if len(self.ids) else "")
        self.empty_label.setText("" if len(self.ids) else text)

    def set_color_options(self, names: list[str], provider: ColumnProvider, prefer: str = "") -> None:
        """The columns to colour by: ``prefer`` when it is one of them, else the current one while it exists."""
        self.columns = provider
        self.forget_colours()
        current = self.color_combo.currentText()
        choice = prefer if prefer in names else current if current in names else ""
        self.color_combo.blockSignals(True)
        self.color_combo.clear()
        self.color_combo.addItems(names)
        for i, name in enumerate(names):
            self.color_combo.setItemData(i, name, Qt.ItemDataRole.ToolTipRole)
        if choice:
            self.color_combo.setCurrentText(choice)
        self.color_combo.blockSignals(False)
        self.recolor()

    def set_map(self, ids: np.ndarray, xy: np.ndarray, title: str = "") -> None:
        """Show a map; row ``i`` of ``xy`` is image ``ids[i]`` (ids unique)."""
        self.ids, self.xy = np.asarray(ids, np.int64), np.asarray(xy, np.float32).reshape(-1, 2)
        self._index = RowIndex(self.ids)
        self._picker = PointPicker(self.xy)
        self.forget_colours()
        self.marks.clear()
        self.points.set_points(self.xy[:, 0], self.xy[:, 1], colouring.plain(len(self.ids)))
        self.recolor()
        self._on_selection_changed(None)
        self._on_results_changed()
        self.plot.autoRange(padding=0.05)
        self.status.setText(title)
        self.empty_label.setText("")

    def append_points(self, ids: np.ndarray, xy: np.ndarray) -> None:
        """Add images to the shown map after its points (ids not on it yet; e.g. watch mode's new images).

        Nothing else changes: the other points keep their rows, coordinates and colours, the zoom and the marks
        stay. The new points take the colour of their value in the shown column, asked of :attr:`columns_of` for
        them alone; only when that value has no colour yet (a class not on the map, any number) is the whole
        column read again. Costs a few milliseconds at 100k points, where :meth:`set_map` costs a second.
        """
        ids, xy = np.asarray(ids, np.int64).ravel(), np.asarray(xy, np.float32).reshape(-1, 2)
        if not len(ids):
            return
        if not len(self.ids):
            self.set_map(ids, xy)
            return
        self.ids, self.xy = np.concatenate([self.ids, ids]), np.concatenate([self.xy, xy])
        self._index = RowIndex(self.ids)
        self._picker = self._picker.append(xy) if self._picker is not None else PointPicker(self.xy)
        name = self.color_combo.currentText()
        kept = name in self._colourings
        grown = colouring.appended(self.points.colouring, self._new_values(name, ids))
        self._colourings.clear()  # the other columns kept are a row short: read again when next shown
        self.points.append_points(xy[:, 0], xy[:, 1], grown if grown is not None else colouring.plain(len(self.ids)))
        if grown is None:
            self.recolor()
        elif name:
            if kept:
                self._colourings[name] = grown
            self.legend.set_entries(name, grown.entries[:MAX_LEGEND], len(grown.entries) - MAX_LEGEND)

    def _new_values(self, name: str, ids: np.ndarray) -> list[Any]:
        if not name:
            return [None] * len(ids)
        if self.columns_of is None:
            values, _classes = self.columns(name)
        else:
            values = self.columns_of(name, ids)
        return [values.get(int(i)) for i in ids]

    def recolor(self) -> None:
        """Colour points by the chosen column, with a legend (categories, or min/max for numbers)."""
        name = self.color_combo.currentText()
        if not len(self.ids) or not name:
            self.points.set_colouring(colouring.plain(len(self.ids)))
            self.legend.set_entries("", [])
            return
        found = self._colourings.get(name)
        if found is None:
            values, classes = self.columns(name)
            if classes is None:
                found = colouring.numeric(self._index, values)
            else:
                found = colouring.categorical(self._index, values, classes)
            self._colourings[name] = found
        self.points.set_colouring(found)
        entries = found.entries
        self.legend.set_entries(name, entries[:MAX_LEGEND], len(entries) - MAX_LEGEND)

    def forget_colours(self) -> None:
        """Drop the columns' colours kept for switching back and forth: their values may have changed."""
        self._colourings.clear()

    def highlight(
        self, ids: Iterable[int] | np.ndarray, style: MarkStyle | None = None, key: str = "highlight"
    ) -> None:
        """Mark the points of ``ids`` under ``key`` above the colours (rings by default; see :class:`MarkStyle`),
        replacing what ``key`` marked; an empty ``ids`` removes the mark. Ids not on the map are ignored.
        "selection" and "results" are the keys this widget uses itself."""
        self.marks.set_mark(key, self._index.rows(ids), style or MarkStyle(SELECTED, pad=7, width=2, z=3))

    def highlighted(self, key: str = "highlight") -> np.ndarray:
        """The image ids marked under ``key``, in map order."""
        marked: np.ndarray = self.ids[np.sort(self.marks.rows(key))]
        return marked

    def positions(self, ids: Iterable[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(found, xy)`` for each id given: whether it is on the map, and its map coordinates (0 where not)."""
        found, rows = self._index.lookup(ids)
        return found, np.where(found[:, None], self.xy[rows], 0.0) if len(self.ids) else np.zeros((len(found), 2))

    def add_overlay(self, item: QGraphicsItem, z: float = OVERLAY_Z) -> None:
        """Draw a pyqtgraph item in map coordinates above the points (e.g. ``pg.PlotCurveItem`` through the
        :meth:`positions` of a well's images over time). It does not change the zoom that fits the map."""
        item.setZValue(z)
        self.plot.addItem(item, ignoreBounds=True)

    def remove_overlay(self, item: QGraphicsItem) -> None:
        self.plot.removeItem(item)

    # -- observers ------------------------------------------------------------------------------------------------
    def _on_map_changed(self) -> None:
        state = self.session.map
        data = state.data
        if data is None:
            if len(self.ids):
                self.set_map(np.zeros(0, np.int64), np.zeros((0, 2), np.float32))
            self.status.setText(state.progress)
            return
        if data.ids is not self._shown_ids:
            self._shown_ids = data.ids
            self.set_map(data.ids, data.xy, data.title)
        self.status.setText(" · ".join(t for t in (data.title, state.progress) if t))

    def _on_map_appended(self, ids: np.ndarray, xy: np.ndarray) -> None:
        data = self.session.map.data
        if data is None or self._shown_ids is None:
            return
        self.append_points(ids, xy)
        self._shown_ids = data.ids
        self.status.setText(" · ".join(t for t in (data.title, self.session.map.progress) if t))

    def _on_selection_changed(self, source: object) -> None:
        if source is self and self._own_rows is not None:
            rows = self._own_rows  # what a box or lasso here just selected: no lookup
        else:
            rows = self._index.rows(self.selection.as_array())
        self.marks.set_mark("selection", rows, SELECTION)

    def _on_results_changed(self) -> None:
        self.marks.set_mark("results", self._index.rows(self.results.ids), RESULTS)

    def _on_color_changed(self, _name: str) -> None:
        self.recolor()

    # -- mouse --------------------------------------------------------------------------------------------------
    def pick(self, scene_pos: QPointF, radius_px: float = 8.0) -> int | None:
        """Image id under ``scene_pos`` (scene coordinates): the nearest point on screen, among all points."""
        if self._picker is None or not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        px, py = self.vb.viewPixelSize()
        row = self._picker.nearest(p.x(), p.y(), (px, py), radius_px)
        return None if row is None else int(self.ids[row])

    def _on_mouse_clicked(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        image_id = self.pick(ev.scenePos())
        additive = bool(ev.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        if image_id is None:
            if not additive:
                self.selection.clear(source=self)
            return
        ids = list(self.selection.ids)
        if additive:
            ids = [i for i in ids if i != image_id] if image_id in self.selection else [*ids, image_id]
        else:
            ids = [image_id]
        self.selection.set(ids, source=self, current=image_id)

    def _on_region_selected(self, polygon: np.ndarray, modifiers: Any) -> None:
        rows = np.flatnonzero(in_polygon(self.points.x, self.points.y, polygon))
        chosen = self.ids[rows]
        if modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self.selection.set(np.concatenate([self.selection.as_array(), chosen]), source=self)
            return
        self._own_rows = rows  # the selection will be exactly these rows' ids (map ids are unique)
        try:
            self.selection.set(chosen, source=self)
        finally:
            self._own_rows = None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._hover_pos = scene_pos
        self._hover_timer.start()

    def _on_hover_timeout(self) -> None:
        image_id = self.pick(self._hover_pos)
        if image_id is None:
            self.hover.hide()
            return
        widget_pos = self.plot.mapFromScene(self._hover_pos)
        self.hover.show_at(widget_pos, self.thumbnail_for(image_id), self.name_for(image_id))
