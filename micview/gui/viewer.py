"""The image viewer: zoom/pan, contrast for 16-bit/float data, frames, metadata, scale bar.

The initial black/white levels are the same 0.5–99.5 % percentile stretch as
:func:`micview.core.imaging.to_display` (what the thumbnails and the models saw); the histogram next to the
image adjusts them on the raw values. Pixels are read in the background (files can be hundreds of MB).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.core.imaging.display import display_levels  # the to_display rule itself, not a copy
from micview.core.store import ImageRow
from micview.core.store.images import INSTRUMENT_COLUMNS
from micview.gui import background
from micview.gui.workers import JobManager

pg.setConfigOptions(imageAxisOrder="row-major")
LOW, HIGH = 0.5, 99.5


def percentile_levels(arr: np.ndarray) -> tuple[float, float]:
    """Display levels for ``arr``: full range for uint8 (kept as stored), else the percentile stretch."""
    if arr.dtype == np.uint8:
        return 0.0, 255.0
    lo, hi = display_levels(np.abs(arr) if np.iscomplexobj(arr) else arr, LOW, HIGH)
    if lo is None or hi is None:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def nice_length(span: float) -> float:
    """A 1/2/5 × 10^k length near a fifth of ``span`` (for the scale bar)."""
    target = span / 5
    power = 10 ** math.floor(math.log10(target))
    return next(m * power for m in (5, 2, 1) if m * power <= target)


class MetadataTree(QTreeWidget):
    """Typed instrument columns first (what one filters by), then the file's raw metadata as a tree."""

    def __init__(self) -> None:
        super().__init__()
        self.setHeaderLabels(["Field", "Value"])
        self.setColumnWidth(0, 170)
        self.setAlternatingRowColors(True)

    def show_row(self, row: ImageRow | None, raw: dict[str, Any]) -> None:
        self.clear()
        if row is None:
            return
        image = self._group("Image", {
            "file": row.path, "format": row.format, "size": f"{row.width} × {row.height} px",
            "frames": row.frames, "pixel type": f"{row.dtype}, {row.bit_depth}-bit, {row.mode}",
            "file size": f"{(row.size_bytes or 0) / 1e6:.2f} MB",
        })  # fmt: skip
        self._group("Instrument", {c: getattr(row, c) for c in INSTRUMENT_COLUMNS if getattr(row, c) is not None})
        raw_item = self._group("Raw metadata", {})
        _fill(raw_item, raw)
        for item in (image, self.topLevelItem(1)):
            item.setExpanded(True)

    def _group(self, title: str, values: dict[str, Any]) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        for key, value in values.items():
            QTreeWidgetItem(item, [key, _fmt(value)])
        if not values and title == "Instrument":
            QTreeWidgetItem(item, ["(none in this file)"])
        return item


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _fill(parent: QTreeWidgetItem, value: Any, depth: int = 0) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in list(items)[:500]:
        node = QTreeWidgetItem(parent, [str(key)])
        if isinstance(child, dict | list) and depth < 8:
            _fill(node, child, depth + 1)
        else:
            node.setText(1, _fmt(child))
            node.setToolTip(1, str(child))


class ViewerWindow(QWidget):
    """One reusable viewer window; :meth:`show_image` loads another image into it."""

    def __init__(self, jobs: JobManager) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.jobs = jobs
        self.row: ImageRow | None = None
        self.path: Path | None = None
        self.image = np.zeros((0, 0))
        self.resize(1200, 800)
        self.image_view = pg.ImageView()
        self.image_view.ui.roiBtn.hide()
        self.image_view.ui.menuBtn.hide()
        self.image_view.getView().setBackgroundColor("#101113")
        self.scale_bar: pg.ScaleBar | None = None
        self.frame_slider = QSlider(Qt.Orientation.Horizontal)
        self.frame_label = QLabel()
        self.info = QLabel()
        self.metadata = MetadataTree()
        self._layout()
        self.frame_slider.valueChanged.connect(self._load_frame)

    def _layout(self) -> None:
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.image_view, 1)
        frames = QHBoxLayout()
        frames.addWidget(self.frame_label)
        frames.addWidget(self.frame_slider, 1)
        col.addLayout(frames)
        col.addWidget(self.info)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.metadata)
        split.setSizes([820, 380])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

    def show_image(self, row: ImageRow, path: Path, raw: dict[str, Any]) -> None:
        self.row, self.path = row, path
        self.setWindowTitle(f"{row.name} — micview")
        self.metadata.show_row(row, raw)
        frames = max(1, row.frames or 1)
        self.frame_slider.blockSignals(True)
        self.frame_slider.setRange(0, frames - 1)
        self.frame_slider.setValue(0)
        self.frame_slider.blockSignals(False)
        for w in (self.frame_slider, self.frame_label):
            w.setVisible(frames > 1)
        self._load_frame(0)

    def _load_frame(self, frame: int) -> None:
        if self.path is None:
            return
        self.frame_label.setText(f"Frame {frame + 1} / {self.frame_slider.maximum() + 1}")
        self.info.setText(f"Reading {self.path.name}…")
        job = self.jobs.start(f"Read {self.path.name}", lambda p=self.path: background.read_frame(p, frame), quiet=True)
        job.returned.connect(self.set_pixels)
        job.errored.connect(lambda msg, _d: self.info.setText(f"Cannot show this image: {msg}"))

    def set_pixels(self, arr: np.ndarray) -> None:
        """Show ``arr`` at the to_display levels; the histogram stays adjustable on the raw values."""
        if arr.ndim == 3 and arr.shape[2] > 3:
            arr = arr[:, :, :3]
        if np.iscomplexobj(arr):
            arr = np.log1p(np.abs(arr))
        self.image = arr
        lo, hi = percentile_levels(arr)
        self.image_view.setImage(arr, levels=(lo, hi), autoRange=False, autoHistogramRange=True)
        self._place_scale(arr.shape[1], arr.shape[0])
        px = self.row.pixel_size_nm if self.row else None
        cal = f" · {px:.4g} nm/pixel" if px else " · no pixel calibration"
        self.info.setText(f"{arr.shape[1]} × {arr.shape[0]} px, {arr.dtype}{cal} · levels {lo:.5g} – {hi:.5g}")

    def _place_scale(self, width: int, height: int) -> None:
        """Image in metres where calibrated, so pyqtgraph's ScaleBar prints SI units (nm, µm)."""
        px_nm = self.row.pixel_size_nm if self.row else None
        step = px_nm * 1e-9 if px_nm else 1.0
        self.image_view.getImageItem().setRect(QRectF(0, 0, width * step, height * step))
        self.image_view.getView().autoRange(padding=0.02)
        view = self.image_view.getView()
        if self.scale_bar is not None:
            view.scene().removeItem(self.scale_bar) if self.scale_bar.scene() else None
            self.scale_bar = None
        if px_nm:
            self.scale_bar = pg.ScaleBar(size=nice_length(width * step), suffix="m", width=8, brush="w", pen="k")
            font = self.scale_bar.text.textItem.font()
            font.setPointSize(13)
            font.setBold(True)
            self.scale_bar.text.setFont(font)
            # white on a translucent dark box: readable on bright and dark micrographs alike
            self.scale_bar.text.setColor("w")
            self.scale_bar.text.fill = pg.mkBrush(0, 0, 0, 170)
            self.scale_bar.setParentItem(view)
            self.scale_bar.anchor((1, 1), (1, 1), offset=(-40, -40))
