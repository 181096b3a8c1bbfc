"""The Analysis tab's figures, drawn live with pyqtgraph from the analysis arrays, each clickable.

Each figure is a :class:`Figure`: a bold title, the plot (a fixed height, the panel's width), a legend and a
caption that wrap, and a read-out line for what the mouse is over. The plots only say *where* a click fell
(a matrix cell, a histogram bin, a point, a bar) through their signals; the panel maps that to image ids and
selects them through the session. Colours are the label bar's palette, so a group or a class looks the same here
as on the map.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from micview.gui.palette import category_color
from micview.gui.widgets import wrapping_label

BACKGROUND = "#17181b"
AXIS = "#8a9099"
Describe = Callable[[int, int], str]


def colour(i: int) -> QColor:
    return category_color(i)


def legend_html(entries: Sequence[tuple[str, QColor]]) -> str:
    """Coloured squares and names, as one wrapping line (a legend beside the plot never covers points)."""
    return " &nbsp; ".join(f"<span style='color:{c.name()}'>■</span>&nbsp;{html.escape(text)}" for text, c in entries)


def short(name: str, n: int = 16) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


class Plot(pg.PlotWidget):  # type: ignore[misc]
    """A plot on the window's dark background whose mouse clicks arrive as view coordinates."""

    clicked = Signal(QPointF, object)  # (view position, keyboard modifiers)
    hovered = Signal(QPointF)

    def __init__(self, height: int = 190) -> None:
        super().__init__(background=BACKGROUND)
        self.setFixedHeight(height)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setPen(AXIS)
            axis.setTextPen(AXIS)
            axis.enableAutoSIPrefix(False)  # "(x0.001)" after a label says less than the numbers themselves
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.scene().sigMouseMoved.connect(self._on_scene_moved)

    @property
    def vb(self) -> pg.ViewBox:
        return self.getPlotItem().getViewBox()

    def _inside(self, scene_pos: QPointF) -> bool:
        return bool(self.vb.sceneBoundingRect().contains(scene_pos))

    def _on_scene_clicked(self, ev: object) -> None:
        pos = ev.scenePos()  # type: ignore[attr-defined]
        if ev.button() == Qt.MouseButton.LeftButton and self._inside(pos):  # type: ignore[attr-defined]
            self.clicked.emit(self.vb.mapSceneToView(pos), ev.modifiers())  # type: ignore[attr-defined]

    def _on_scene_moved(self, pos: QPointF) -> None:
        if self._inside(pos):
            self.hovered.emit(self.vb.mapSceneToView(pos))

    def view_to_widget(self, x: float, y: float) -> QPointF:
        """Widget coordinates of a view point (where a test or a script clicks)."""
        return QPointF(self.mapFromScene(self.vb.mapViewToScene(QPointF(x, y))))


class Figure(QWidget):
    """Title, plot, legend, caption and a read-out line, stacked; hidden parts take no room."""

    def __init__(self, title: str, plot: Plot) -> None:
        super().__init__()
        self.title = wrapping_label(title, "font-weight: bold; padding-top: 8px;")
        self.plot = plot
        self.legend = wrapping_label()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.caption = wrapping_label(style="color: #a0a6ad;")
        self.readout = wrapping_label(style="color: #c8ccd1;")
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        for w in (self.title, self.plot, self.legend, self.caption, self.readout):
            col.addWidget(w)
        self.set_text()

    def add_tools(self, widget: QWidget) -> None:
        """A row of controls between the title and the plot (e.g. PCA or t-SNE)."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(1, widget)

    def set_text(self, caption: str = "", legend: str = "", readout: str = "") -> None:
        for label, text in ((self.caption, caption), (self.legend, legend), (self.readout, readout)):
            label.setText(text)
            label.setVisible(bool(text))

    def set_readout(self, text: str) -> None:
        """The read-out line alone (what the pointer is over); caption and legend stay as they are."""
        self.readout.setText(text)
        self.readout.setVisible(bool(text))


class MatrixPlot(Plot):
    """A square matrix drawn cell by cell (row 0 at the top) with its groups marked on the axes.

    ``cell_clicked(row, col, modifiers)`` says which cell was clicked; ``describe(row, col)`` (set by the owner)
    is what the read-out shows while the mouse is over a cell.
    """

    cell_clicked = Signal(int, int, object)
    cell_hovered = Signal(int, int)

    def __init__(self, height: int = 300) -> None:
        super().__init__(height)
        self.values = np.zeros((0, 0), np.float32)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.addItem(self.image)
        self.vb.invertY(True)
        self.vb.setAspectLocked(False)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=10)
        self.colorbar.setImageItem(self.image, insert_in=self.getPlotItem())
        self.colorbar.getAxis("right").setTextPen(AXIS)
        self._lines: list[pg.InfiniteLine] = []
        self.clicked.connect(self._on_clicked)
        self.hovered.connect(self._on_hovered)
        self.getAxis("left").setWidth(96)

    def set_matrix(
        self, values: np.ndarray, bounds: Sequence[tuple[str, int, int]], levels: tuple[float, float] | None = None
    ) -> None:
        """``values`` (n × n) and the groups along both axes: (name, first row, last row + 1)."""
        self.values = np.asarray(values, np.float32)
        n = len(self.values)
        lo, hi = levels or _levels(self.values)
        self.image.setImage(self.values, levels=(lo, hi))
        self.image.setRect(0, 0, n, n)
        self.colorbar.setLevels((lo, hi))
        for line in self._lines:
            self.removeItem(line)
        self._lines = []
        if len(bounds) <= 60:
            for _, start, _ in bounds[1:]:
                for angle in (0, 90):
                    line = pg.InfiniteLine(start, angle=angle, pen=pg.mkPen("#ffffff", width=1))
                    line.setOpacity(0.6)
                    self.addItem(line, ignoreBounds=True)
                    self._lines.append(line)
        centres = [((s + e) / 2, k) for k, (_, s, e) in enumerate(bounds)]
        self.getAxis("left").setTicks([[(c, f"{k + 1} {short(bounds[k][0], 13)}") for c, k in centres]])
        self.getAxis("bottom").setTicks([[(c, str(k + 1)) for c, k in centres]])
        self.vb.setRange(xRange=(0, n), yRange=(0, n), padding=0)

    def cell_at(self, p: QPointF) -> tuple[int, int] | None:
        n = len(self.values)
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        return (row, col) if 0 <= row < n and 0 <= col < n else None

    def cell_centre(self, row: int, col: int) -> QPointF:
        """Widget coordinates of a cell's centre."""
        return self.view_to_widget(col + 0.5, row + 0.5)

    def _on_clicked(self, p: QPointF, modifiers: object) -> None:
        cell = self.cell_at(p)
        if cell is not None:
            self.cell_clicked.emit(cell[0], cell[1], modifiers)

    def _on_hovered(self, p: QPointF) -> None:
        cell = self.cell_at(p)
        if cell is not None:
            self.cell_hovered.emit(*cell)


def _levels(values: np.ndarray) -> tuple[float, float]:
    """The colour range: the off-diagonal values' 1st to 99th percentile (the diagonal's 1.0 would wash it out)."""
    n = len(values)
    if n < 2:
        return 0.0, 1.0
    off = values[~np.eye(n, dtype=bool)]
    sample = off[:: max(1, len(off) // 200_000)]
    lo, hi = (float(v) for v in np.percentile(sample, [1, 99]))
    return (lo, hi) if hi > lo else (lo - 0.01, hi + 0.01)


class HistogramPlot(Plot):
    """Step histograms of several series on shared bins; ``bin_clicked(lo, hi, modifiers)``."""

    bin_clicked = Signal(float, float, object)

    def __init__(self, height: int = 170) -> None:
        super().__init__(height)
        self.edges = np.zeros(0)
        self.clicked.connect(self._on_clicked)

    def set_series(
        self,
        series: Sequence[tuple[np.ndarray, QColor]],
        bins: int = 40,
        x_label: str = "",
        y_label: str = "",
        marker: float | None = None,
    ) -> None:
        self.clear()
        values = [np.asarray(v, np.float64) for v, _ in series]
        every = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
        if not len(every):
            self.edges = np.zeros(0)
            return
        lo, hi = float(every.min()), float(every.max())
        self.edges = np.linspace(lo, hi if hi > lo else lo + 1e-3, bins + 1)
        for v, c in series:
            counts, _ = np.histogram(v[np.isfinite(v)], self.edges)
            fill = QColor(c)
            fill.setAlpha(70)
            self.plot(self.edges, counts, stepMode="center", fillLevel=0, brush=fill, pen=pg.mkPen(c, width=1.5))
        if marker is not None and lo <= marker <= hi:
            self.addItem(pg.InfiniteLine(marker, angle=90, pen=pg.mkPen("#ff6b6b", width=1)))
        self.setLabel("bottom", x_label, color=AXIS)
        self.setLabel("left", y_label, color=AXIS)
        self.vb.autoRange(padding=0.02)

    def bin_of(self, x: float) -> tuple[float, float] | None:
        if len(self.edges) < 2 or not self.edges[0] <= x <= self.edges[-1]:
            return None
        k = min(int(np.searchsorted(self.edges, x, side="right")) - 1, len(self.edges) - 2)
        return float(self.edges[k]), float(self.edges[k + 1])

    def _on_clicked(self, p: QPointF, modifiers: object) -> None:
        found = self.bin_of(p.x())
        if found is not None:
            self.bin_clicked.emit(found[0], found[1], modifiers)


class PointsPlot(Plot):
    """Points coloured by group; ``point_clicked(index)`` with the index into the arrays given."""

    point_clicked = Signal(int, object)
    point_hovered = Signal(int)

    def __init__(self, height: int = 230) -> None:
        super().__init__(height)
        self.points = pg.ScatterPlotItem(size=9, hoverable=True, hoverSize=12, pen=pg.mkPen("#17181b"))
        self.addItem(self.points)
        self.points.sigClicked.connect(self._on_points_clicked)
        self.points.sigHovered.connect(self._on_points_hovered)

    def set_points(
        self, xy: np.ndarray, group: np.ndarray, x_label: str = "", y_label: str = "", size: int = 9
    ) -> None:
        brushes = [pg.mkBrush(colour(int(g))) for g in group]
        self.points.setData(x=xy[:, 0], y=xy[:, 1], brush=brushes, size=size, data=np.arange(len(xy)))
        self.setLabel("bottom", x_label, color=AXIS)
        self.setLabel("left", y_label, color=AXIS)
        self.vb.autoRange(padding=0.08)

    def add_diagonal(self) -> None:
        """The line x = y (equal similarity to both groups)."""
        self.addItem(pg.InfiniteLine((0, 0), angle=45, pen=pg.mkPen("#ff6b6b", width=1, style=Qt.PenStyle.DashLine)))

    def _on_points_clicked(self, _item: object, points: Sequence[object], ev: object) -> None:
        if len(points):
            self.point_clicked.emit(int(points[0].data()), ev.modifiers())  # type: ignore[attr-defined]

    def _on_points_hovered(self, _item: object, points: Sequence[object], _ev: object) -> None:
        if len(points):
            self.point_hovered.emit(int(points[0].data()))  # type: ignore[attr-defined]


class BarsPlot(Plot):
    """Horizontal bars, one per name (first at the top); ``bar_clicked(index)``."""

    bar_clicked = Signal(int, object)

    def __init__(self) -> None:
        super().__init__(120)
        self.n = 0
        self.centres = np.zeros(0)
        self.clicked.connect(self._on_clicked)
        self.vb.invertY(True)
        self.getAxis("left").setWidth(110)

    def set_bars(
        self, names: Sequence[str], values: Sequence[float], x_label: str = "", colours: Sequence[QColor] | None = None
    ) -> None:
        """One bar per name from 0 to its value (negative values to the left)."""
        self.clear()
        self.n = len(names)
        self.setFixedHeight(max(120, 16 * self.n + 50))
        v = np.asarray(values, np.float64)
        brushes = [pg.mkBrush(c) for c in colours] if colours else [pg.mkBrush(colour(k)) for k in range(self.n)]
        bars = pg.BarGraphItem(
            x0=np.minimum(v, 0), y=np.arange(self.n), width=np.abs(v), height=0.7, brushes=brushes, pen=pg.mkPen(None)
        )
        self.addItem(bars)
        if (v < 0).any():
            self.addItem(pg.InfiniteLine(0, angle=90, pen=pg.mkPen(AXIS, width=1)))
        self.getAxis("left").setTicks([[(k, short(n, 17)) for k, n in enumerate(names)]])
        self.setLabel("bottom", x_label, color=AXIS)
        lo, hi = min(0.0, float(v.min(initial=0))), max(0.0, float(v.max(initial=0)))
        pad = 0.05 * ((hi - lo) or 1.0)
        self.vb.setRange(yRange=(-0.6, self.n - 0.4), xRange=(lo - (pad if lo < 0 else 0), hi + pad), padding=0)
        self.centres = v / 2

    def bar_centre(self, k: int) -> QPointF:
        """Widget coordinates of the middle of bar ``k``."""
        return self.view_to_widget(float(self.centres[k]), k)

    def _on_clicked(self, p: QPointF, modifiers: object) -> None:
        k = round(p.y())
        if 0 <= k < self.n:
            self.bar_clicked.emit(k, modifiers)


def note_label(text: str = "") -> QLabel:
    return wrapping_label(text, "color: #d9b45a; padding: 2px 0;")
