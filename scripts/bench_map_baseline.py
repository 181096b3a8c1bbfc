"""The map widget as it was before the density rewrite (micview/gui/scatter.py and scatter_tools.py at commit
cab6825), kept verbatim so that scripts/bench_map.py measures today's code against it in the same run.

Not used by micview itself. Only the class name changed (ScatterWidget -> BaselineScatter) and the two modules
were joined; it draws with one pyqtgraph ScatterPlotItem and a brush object per point.
"""

# ruff: noqa

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGraphicsPathItem,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from micview.gui.map_legend import MapLegend
from micview.gui.palette import RESULT, SELECTED, UNLABELLED, color_for, ramp
from micview.gui.session import Session
from micview.gui.widgets import compact_combo, elided_label


class PointPicker:
    """Nearest point to a position within a radius in *screen pixels*, whatever the zoom and aspect."""

    def __init__(self, xy: np.ndarray) -> None:
        from scipy.spatial import cKDTree

        self.xy = np.asarray(xy, np.float64)
        span = self.xy.max(axis=0) - self.xy.min(axis=0) if len(self.xy) else np.ones(2)
        self._scale = np.where(span > 0, span, 1.0)
        self._tree = cKDTree(self.xy / self._scale) if len(self.xy) else None

    def nearest(self, x: float, y: float, pixel: tuple[float, float], radius_px: float = 8.0) -> int | None:
        """Row of the point nearest to (x, y) within ``radius_px``; ``pixel`` is the view's (dx, dy) per pixel."""
        if self._tree is None:
            return None
        px = np.asarray(pixel, np.float64)
        r = radius_px * float(np.max(px / self._scale))
        rows = self._tree.query_ball_point(np.array([x, y]) / self._scale, r)
        if not rows:
            return None
        d = (self.xy[rows] - (x, y)) / px
        dist = np.hypot(d[:, 0], d[:, 1])
        best = int(np.argmin(dist))
        return int(rows[best]) if dist[best] <= radius_px else None


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``xy`` inside ``polygon`` (``(k, 2)``, closed implicitly; even-odd rule)."""
    inside = np.zeros(len(xy), np.bool_)
    if len(polygon) < 3 or not len(xy):
        return inside
    lo, hi = polygon.min(axis=0), polygon.max(axis=0)
    cand = np.flatnonzero(np.all((xy >= lo) & (xy <= hi), axis=1))
    x, y = xy[cand, 0], xy[cand, 1]
    hit = np.zeros(len(cand), np.bool_)
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        hit ^= crosses & (x < x_at)
    inside[cand[hit]] = True
    return inside


class SelectViewBox(pg.ViewBox):
    """A ViewBox whose left-drag draws a rectangle or lasso (``mode``) instead of panning.

    ``region_selected(polygon, modifiers)`` carries the region in data coordinates.
    """

    region_selected = Signal(object, object)

    def __init__(self) -> None:
        super().__init__()
        self.mode = "pan"
        self._points: list[QPointF] = []
        self._outline = QGraphicsPathItem()
        self._outline.setPen(pg.mkPen(QColor("#ffffff"), width=1.5, style=Qt.PenStyle.DashLine, cosmetic=True))
        self._outline.setBrush(QColor(255, 255, 255, 30))
        self._outline.setZValue(1e9)
        pen = QPen(self._outline.pen())
        pen.setCosmetic(True)
        self._outline.setPen(pen)

    def mouseDragEvent(self, ev, axis=None) -> None:
        if self.mode == "pan" or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        pos = self.mapToView(ev.pos())
        if ev.isStart():
            self._points = [self.mapToView(ev.buttonDownPos()), pos]
            self.addItem(self._outline, ignoreBounds=True)
        elif self.mode == "lasso":
            self._points.append(pos)
        else:
            self._points[1] = pos
        self._outline.setPath(self._path())
        if ev.isFinish():
            self.removeItem(self._outline)
            self.region_selected.emit(self._polygon(), ev.modifiers())

    def _polygon(self) -> np.ndarray:
        pts = np.array([(p.x(), p.y()) for p in self._points], np.float64)
        if self.mode == "rect":
            (x0, y0), (x1, y1) = pts[0], pts[-1]
            pts = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        return pts

    def _path(self) -> QPainterPath:
        path = QPainterPath()
        pts = self._polygon()
        path.moveTo(*pts[0])
        for p in pts[1:]:
            path.lineTo(*p)
        path.closeSubpath()
        return path


# name -> (values by image id, ordered classes or None for numeric)
ColumnProvider = Callable[[str], tuple[dict[int, Any], list[str] | None]]
MAX_LEGEND = 200


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
        x = pos.x() + 16 if pos.x() + 16 + self.width() < parent.width() else pos.x() - 16 - self.width()
        y = min(pos.y() + 16, parent.height() - self.height() - 4)
        self.move(max(4, x), max(4, y))
        self.show()
        self.raise_()


class BaselineScatter(QWidget):
    method_requested = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.selection, self.results = session.selection, session.results
        self.ids = np.zeros(0, np.int64)
        self._shown_ids: np.ndarray | None = None
        self.xy = np.zeros((0, 2), np.float32)
        self._row_of: dict[int, int] = {}
        self._picker: PointPicker | None = None
        self.thumbnail_for: Callable[[int], QPixmap | None] = session.thumbnails.get
        self.name_for: Callable[[int], str] = session.catalog.name
        self.columns: ColumnProvider = lambda _n: ({}, [])
        self._build()
        self.selection.changed.connect(self._on_selection_changed)
        self.results.changed.connect(self._on_results_changed)
        session.map.changed.connect(self._on_map_changed)

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
            button = QToolButton(text=text, checkable=True, toolTip=tip, objectName=f"mode_{mode}")
            self.mode_group.addButton(button)
            bar.addWidget(button)
            button.toggled.connect(lambda on, m=mode: on and self.set_mode(m))
        self.vb = SelectViewBox()
        self.mode_group.buttons()[1].setChecked(True)
        self.plot = pg.PlotWidget(viewBox=self.vb, background="#17181b")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.points = pg.ScatterPlotItem(pxMode=True, pen=None, size=7)
        self.highlight = pg.ScatterPlotItem(pxMode=True, size=11, brush=None, pen=pg.mkPen(SELECTED, width=2))
        self.result_ring = pg.ScatterPlotItem(pxMode=True, size=15, brush=None, pen=pg.mkPen(RESULT, width=2))
        for item, z in ((self.points, 0), (self.result_ring, 1), (self.highlight, 2)):
            item.setZValue(z)
            self.plot.addItem(item)
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
        """Show a map; row ``i`` of ``xy`` is image ``ids[i]``."""
        self.ids, self.xy = np.asarray(ids, np.int64), np.asarray(xy, np.float32).reshape(-1, 2)
        self._row_of = {int(i): r for r, i in enumerate(self.ids)}
        self._picker = PointPicker(self.xy)
        n = len(self.ids)
        size = 8 if n < 2_000 else 5 if n < 20_000 else 3
        self.points.setData(x=self.xy[:, 0], y=self.xy[:, 1], data=self.ids, size=size)
        self.recolor()
        self._on_selection_changed(None)
        self._on_results_changed()
        self.plot.autoRange(padding=0.05)
        self.status.setText(title)
        self.empty_label.setText("")

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

    def recolor(self) -> None:
        """Colour points by the chosen column, with a legend (categories, or min/max for numbers)."""
        name = self.color_combo.currentText()
        if not len(self.ids) or not name:
            self.points.setBrush(pg.mkBrush(UNLABELLED))
            self.legend.set_entries("", [])
            return
        values, classes = self.columns(name)
        if classes is None:
            brushes, entries = _numeric_brushes(self.ids, values)
        else:
            brushes, entries = _category_brushes(self.ids, values, classes)
        self.points.setBrush(brushes)
        self.legend.set_entries(name, entries[:MAX_LEGEND], len(entries) - MAX_LEGEND)

    # -- observers ------------------------------------------------------------------------------------------------
    def _rows(self, ids: Any) -> np.ndarray:
        return np.fromiter((self._row_of[int(i)] for i in ids if int(i) in self._row_of), np.int64)

    def _on_selection_changed(self, source: object) -> None:
        rows = self._rows(self.selection.ids)
        self.highlight.setData(x=self.xy[rows, 0], y=self.xy[rows, 1]) if len(rows) else self.highlight.clear()

    def _on_results_changed(self) -> None:
        rows = self._rows(self.results.ids)
        self.result_ring.setData(x=self.xy[rows, 0], y=self.xy[rows, 1]) if len(rows) else self.result_ring.clear()

    def _on_color_changed(self, _name: str) -> None:
        self.recolor()

    # -- mouse --------------------------------------------------------------------------------------------------
    def pick(self, scene_pos: QPointF, radius_px: float = 8.0) -> int | None:
        """Image id under ``scene_pos`` (scene coordinates), via the KD-tree."""
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
        chosen = self.ids[points_in_polygon(self.xy, polygon)]
        if modifiers & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            chosen = np.concatenate([self.selection.as_array(), chosen])
        self.selection.set(chosen.tolist(), source=self)

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


def _category_brushes(
    ids: np.ndarray, values: dict[int, Any], classes: list[str]
) -> tuple[list[Any], list[tuple[str, QColor]]]:
    seen = sorted(
        {str(v) for v in values.values() if v is not None},
        key=lambda v: (v not in classes, classes.index(v) if v in classes else 0, v),
    )
    lut = {v: pg.mkBrush(color_for(v, classes)) for v in seen}
    none = pg.mkBrush(QColor(UNLABELLED).darker(130))
    brushes = [lut.get(str(values[i]), none) if values.get(i) is not None else none for i in ids.tolist()]
    entries = [(v, color_for(v, classes)) for v in seen]
    if any(values.get(i) is None for i in ids.tolist()):
        entries.append(("(none)", QColor(UNLABELLED).darker(130)))
    return brushes, entries


def _numeric_brushes(ids: np.ndarray, values: dict[int, Any]) -> tuple[list[Any], list[tuple[str, QColor]]]:
    arr = np.array([_as_float(values.get(i)) for i in ids.tolist()], np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        return [pg.mkBrush(UNLABELLED)] * len(ids), [("(no values)", QColor(UNLABELLED))]
    lo, hi = np.nanpercentile(arr[finite], [1, 99])
    t = np.clip((arr - lo) / (hi - lo), 0, 1) if hi > lo else np.full(len(arr), 0.5)
    lut = [pg.mkBrush(ramp(k / 31)) for k in range(32)]
    none = pg.mkBrush(QColor(UNLABELLED).darker(130))
    brushes = [lut[int(v * 31)] if ok else none for v, ok in zip(np.nan_to_num(t), finite, strict=True)]
    entries = [(f"{lo:.4g}", ramp(0.0)), (f"{(lo + hi) / 2:.4g}", ramp(0.5)), (f"{hi:.4g}", ramp(1.0))]
    return brushes, entries


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
