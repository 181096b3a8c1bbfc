"""The image viewer window: zoom/pan, contrast for 16-bit/float data, frames, metadata, scale bar; the raw
pixel value and calibrated position under the cursor; previous/next image; fit and 1:1 zoom; a line profile.

The initial black/white levels are the same 0.5–99.5 % percentile stretch as
:func:`micview.core.imaging.to_display` (what the thumbnails and the models saw); the histogram next to the
image adjusts them on the raw values. Pixels are read in the background through the
:class:`ViewerController` (files can be hundreds of MB); a frame read for an image the user already left is
dropped when it arrives. Previous/next follow the browser's order (filter and sort applied).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSplitter, QToolButton, QVBoxLayout, QWidget

from micview.core.store import ImageRow
from micview.gui.controllers.viewer import ViewerController
from micview.gui.session import Session
from micview.gui.viewer.metadata import MetadataTree
from micview.gui.viewer.profile import LineProfile, sample_line
from micview.gui.viewer.scale import length_text, nice_length, percentile_levels, value_text
from micview.gui.widgets import elided_label

pg.setConfigOptions(imageAxisOrder="row-major")


def _tool(text: str, tip: str, checkable: bool = False) -> QToolButton:
    button = QToolButton(text=text, toolTip=tip, checkable=checkable)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


class ViewerWindow(QWidget):
    """One reusable viewer window; :meth:`show_image` loads another image into it."""

    def __init__(self, session: Session) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.session = session
        self.ctl = ViewerController(session)
        self.image_id: int | None = None
        self.row: ImageRow | None = None
        self.path: Path | None = None
        self.image = np.zeros((0, 0))  # what is shown (|values| of complex data)
        self.raw = self.image  # the values as read, which the readout and the profile report
        self.step_m: float | None = None  # metres per pixel, where calibrated
        self._request = 0
        self.resize(1200, 800)
        self.image_view = pg.ImageView()
        self.image_view.ui.roiBtn.hide()
        self.image_view.ui.menuBtn.hide()
        self.image_view.getView().setBackgroundColor("#101113")
        self.scale_bar: pg.ScaleBar | None = None
        self.line = pg.LineSegmentROI([(0, 0), (1, 1)], pen=pg.mkPen("#FFB000", width=2))
        self.profile = LineProfile()
        self.frame_slider = QSlider(Qt.Orientation.Horizontal)
        self.frame_label = QLabel()
        self.info = elided_label()
        self.readout = elided_label()
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.metadata = MetadataTree()
        self._build_tools()
        self._layout()
        self._connect()

    # -- construction -----------------------------------------------------------------------------------------
    def _build_tools(self) -> None:
        self.prev_button = _tool("◀ Previous", "Previous image in the browser's order (← or Page Up)")
        self.next_button = _tool("Next ▶", "Next image in the browser's order (→ or Page Down)")
        self.position = QLabel()
        self.position.setStyleSheet("color: #a0a6ad;")
        self.fit_button = _tool("Fit", "Fit the image to the window (F)")
        self.one_button = _tool("1:1", "One image pixel per screen pixel (1)")
        self.profile_button = _tool("Line profile", "Drag the line's ends over the image; its values are plotted "
                                    "below (P)", checkable=True)  # fmt: skip

    def _layout(self) -> None:
        tools = QHBoxLayout()
        for w in (self.prev_button, self.next_button, self.position):
            tools.addWidget(w)
        tools.addStretch(1)
        for w in (self.fit_button, self.one_button, self.profile_button, self.frame_label):
            tools.addWidget(w)
        tools.addWidget(self.frame_slider, 1)
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(tools)
        col.addWidget(self.image_view, 1)
        col.addWidget(self.profile)
        status = QHBoxLayout()
        status.addWidget(self.info, 3)
        status.addWidget(self.readout, 2)
        col.addLayout(status)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.metadata)
        split.setSizes([820, 380])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self.profile.hide()

    def _connect(self) -> None:
        self.frame_slider.valueChanged.connect(self._load_frame)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.fit_button.clicked.connect(self.fit)
        self.one_button.clicked.connect(self.actual_size)
        self.profile_button.toggled.connect(self.set_profile)
        self.line.sigRegionChanged.connect(self._update_profile)
        self.image_view.scene.sigMouseMoved.connect(self._on_mouse_moved)
        keys = (("Left", -1), ("PgUp", -1), ("Right", 1), ("PgDown", 1))
        for key, delta in keys:
            QShortcut(QKeySequence(key), self, lambda d=delta: self.step(d))
        QShortcut(QKeySequence("F"), self, self.fit)
        QShortcut(QKeySequence("1"), self, self.actual_size)
        QShortcut(QKeySequence("P"), self, self.profile_button.toggle)
        QShortcut(QKeySequence("Esc"), self, self.close)

    # -- which image ----------------------------------------------------------------------------------------------
    def show_image(self, image_id: int) -> None:
        row = self.session.catalog.row(image_id)
        path = self.ctl.path_of(image_id)
        if row is None or path is None:
            return
        if image_id != self.image_id:  # never another image's pixels under this one's name and scale
            self._clear_pixels()
        self.image_id, self.row, self.path = image_id, row, path
        self.step_m = row.pixel_size_nm * 1e-9 if row.pixel_size_nm else None
        self.setWindowTitle(f"{row.name} — micview")
        self.metadata.show_row(row, self.ctl.metadata(image_id))
        frames = max(1, row.frames or 1)
        self.frame_slider.blockSignals(True)
        self.frame_slider.setRange(0, frames - 1)
        self.frame_slider.setValue(0)
        self.frame_slider.blockSignals(False)
        for w in (self.frame_slider, self.frame_label):
            w.setVisible(frames > 1)
        self._show_position()
        self._load_frame(0)

    def step(self, delta: int) -> None:
        """Show the previous (-1) or next (+1) image of the browser's order."""
        if self.image_id is None:
            return
        other = self.ctl.neighbour(self.image_id, delta)
        if other is not None:
            self.show_image(other)

    def _show_position(self) -> None:
        shown = self.session.shown.ids
        order = shown if self.image_id in set(shown.tolist()) else [r.id for r in self.session.catalog.rows]
        order = list(map(int, order))
        k = order.index(self.image_id) if self.image_id in order else -1
        self.position.setText(f"{k + 1:,} of {len(order):,}" if k >= 0 else "")
        self.prev_button.setEnabled(k > 0)
        self.next_button.setEnabled(0 <= k < len(order) - 1)

    def _load_frame(self, frame: int) -> None:
        if self.path is None:
            return
        self._request += 1
        request = self._request
        self.frame_label.setText(f"Frame {frame + 1} / {self.frame_slider.maximum() + 1}")
        self.info.setText(f"Reading {self.path.name}…")
        self.ctl.read_frame(self.path, frame,
                            on_result=lambda arr: self._on_pixels(arr, request),
                            on_error=lambda msg, _d: self.info.setText(f"Cannot show this image: {msg}"))  # fmt: skip

    def _on_pixels(self, arr: np.ndarray, request: int) -> None:
        if request == self._request:  # the user has not moved on to another image or frame meanwhile
            self.set_pixels(arr)

    # -- pixels --------------------------------------------------------------------------------------------------
    def _clear_pixels(self) -> None:
        self.image = self.raw = np.zeros((0, 0))
        self.image_view.clear()
        self.readout.setText("")
        if self.scale_bar is not None and self.scale_bar.scene() is not None:
            self.scale_bar.scene().removeItem(self.scale_bar)
        self.scale_bar = None

    def set_pixels(self, arr: np.ndarray) -> None:
        """Show ``arr`` at the to_display levels; the histogram stays adjustable on the raw values."""
        if arr.ndim == 3 and arr.shape[2] > 3:
            arr = arr[:, :, :3]
        self.raw = arr
        if np.iscomplexobj(arr):
            arr = np.log1p(np.abs(arr))
        self.image = arr
        lo, hi = percentile_levels(arr)
        self.image_view.setImage(arr, levels=(lo, hi), autoRange=False, autoHistogramRange=True)
        self._place_scale(arr.shape[1], arr.shape[0])
        self.info.setText(self._describe(arr))
        if self.profile_button.isChecked():
            self._reset_line()

    def _describe(self, arr: np.ndarray) -> str:
        h, w = arr.shape[:2]
        parts = [f"{w:,} × {h:,} px", str(self.raw.dtype)]
        px = self.row.pixel_size_nm if self.row else None
        if px:
            parts.append(f"pixel {length_text(px)} · field {length_text(w * px)} × {length_text(h * px)}")
        else:
            parts.append("no pixel calibration")
        return " · ".join(parts)

    def _place_scale(self, width: int, height: int) -> None:
        """Image in metres where calibrated, so pyqtgraph's ScaleBar prints SI units (nm, µm)."""
        step = self.step_m or 1.0
        self.image_view.getImageItem().setRect(QRectF(0, 0, width * step, height * step))
        self.fit()
        view = self.image_view.getView()
        if self.scale_bar is not None and self.scale_bar.scene() is not None:
            self.scale_bar.scene().removeItem(self.scale_bar)
        self.scale_bar = None
        if self.step_m:
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

    # -- zoom ------------------------------------------------------------------------------------------------------
    def fit(self) -> None:
        self.image_view.getView().autoRange(padding=0.02)

    def actual_size(self) -> None:
        """Zoom so one image pixel covers one screen pixel, around the centre of the view."""
        view = self.image_view.getView()
        step = self.step_m or 1.0
        (x0, x1), (y0, y1) = view.viewRange()
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w, h = view.width() * step, view.height() * step
        view.setRange(xRange=(cx - w / 2, cx + w / 2), yRange=(cy - h / 2, cy + h / 2), padding=0)

    # -- cursor readout and profile ------------------------------------------------------------------------------
    def pixel_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(column, row) of the image pixel under ``scene_pos``, or ``None`` outside the image."""
        if not self.image.size:
            return None
        p = self.image_view.getView().mapSceneToView(scene_pos)
        step = self.step_m or 1.0
        col, row = int(np.floor(p.x() / step)), int(np.floor(p.y() / step))
        inside = 0 <= row < self.image.shape[0] and 0 <= col < self.image.shape[1]
        return (col, row) if inside else None

    def readout_text(self, col: int, row: int) -> str:
        where = f"x {col}, y {row} px"
        if self.row is not None and self.row.pixel_size_nm:
            px = self.row.pixel_size_nm
            where += f" ({length_text((col + 0.5) * px)}, {length_text((row + 0.5) * px)})"
        return f"{where} · value {value_text(self.raw[row, col])}"

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        hit = self.pixel_at(scene_pos)
        self.readout.setText(self.readout_text(*hit) if hit else "")

    def set_profile(self, on: bool) -> None:
        view = self.image_view.getView()
        if on and self.line.scene() is None:
            view.addItem(self.line)
            self._reset_line()
        elif not on and self.line.scene() is not None:
            view.removeItem(self.line)
        self.profile.setVisible(on)

    def _reset_line(self) -> None:
        """A horizontal line across the middle half of the image."""
        if not self.image.size:
            return
        h, w = self.image.shape[:2]
        step = self.step_m or 1.0
        y = h / 2 * step
        self.line.setPos(0, 0)
        for handle, x in zip(self.line.getHandles(), (w / 4, 3 * w / 4), strict=True):
            self.line.movePoint(handle, pg.Point(x * step, y), finish=False, coords="parent")
        self._update_profile()

    def _update_profile(self) -> None:
        if not self.image.size or not self.profile_button.isChecked():
            return
        step = self.step_m or 1.0
        ends = [self.line.mapToParent(h.pos()) for h in self.line.getHandles()]
        start, end = ((p.x() / step, p.y() / step) for p in ends)
        distance, values = sample_line(self.raw if not np.iscomplexobj(self.raw) else self.image, start, end)
        self.profile.show_profile(distance, values, self.step_m)
