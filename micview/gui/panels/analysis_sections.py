"""The Analysis tab's parts, each built from one :class:`~micview.ml.analysis.AnalysisResult`, and what they share:

* :class:`~micview.gui.panels.analysis_concept.ConceptSection` — prompt groups against images (CLIP-family
  models), in its own module;
* :class:`ImageSideSection` — labels in the embedding space (any model): label silhouette, each class's spread,
  where each class's neighbours fall, the most confusable class pairs with their closest images;
* :class:`MatrixSection` — image–image similarity ordered by label or cluster (a sample above 1500 images).

A click maps back to image ids through the result's arrays and goes to :class:`Context.select`, which sets the
session's selection (the grid, the map and the viewer follow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from micview.gui.panels.analysis_plots import (
    BarsPlot,
    Figure,
    MatrixPlot,
    note_label,
)
from micview.gui.widgets import wrapping_label

if TYPE_CHECKING:
    from micview.ml.analysis import AnalysisResult, ImageSide, SimilarityMatrix

SCATTER_MAX = 4_000  # images drawn as points; above, an even sample (the caption says so)
SHIFT = Qt.KeyboardModifier.ShiftModifier


@dataclass
class Context:
    """What a section needs from the panel: select images (with a line saying what was selected), an image's
    name and thumbnail."""

    select: Callable[[np.ndarray, str], None]
    name: Callable[[int], str]
    thumbnail: Callable[[int], QPixmap | None]


def heading(text: str) -> QWidget:
    return wrapping_label(text, "font-size: 11pt; font-weight: bold; padding-top: 14px;")


def fmt(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def column(widgets: list[QWidget]) -> QVBoxLayout:
    col = QVBoxLayout()
    col.setContentsMargins(0, 0, 0, 0)
    col.setSpacing(4)
    for w in widgets:
        col.addWidget(w)
    return col


def _has(modifiers: Any, flag: Qt.KeyboardModifier) -> bool:
    return bool(Qt.KeyboardModifier(modifiers) & flag) if modifiers is not None else False


# -- labels in the embedding space ----------------------------------------------------------------------------------
class ImageSideSection(QWidget):
    def __init__(self, result: AnalysisResult, ctx: Context) -> None:
        super().__init__()
        assert result.image_side is not None
        self.side: ImageSide = result.image_side
        self.ctx = ctx
        labels = np.array([lab if lab is not None else "" for lab in result.labels], dtype=object)
        self.ids_of = {c: result.image_ids[labels == c] for c in self.side.classes}
        s = self.side
        sampled = (
            f" Neighbours were counted for a stratified sample of {s.neighbours_from:,} labelled images."
            if s.neighbours_from < sum(s.counts.values())
            else ""
        )
        summary = wrapping_label(
            f"{len(s.classes)} classes of {result.task}. Silhouette of the labels <b>{fmt(s.label_silhouette)}</b> "
            f"(cosine, −1 … 1: near 0 or below, the labels do not form separate groups in this model's space).{sampled}"
        )
        summary.setTextFormat(Qt.TextFormat.RichText)
        self.spread = self._spread()
        self.neighbours = self._neighbours()
        widgets: list[QWidget] = [
            heading(f"Labels of {result.task} in the embedding space"),
            summary,
            self.spread,
            self.neighbours,
        ]
        if s.confusable:
            widgets += [
                wrapping_label("Most confusable class pairs", "font-weight: bold; padding-top: 8px;"),
                wrapping_label("The closest images across each pair; click a pair to select both.", "color: #a0a6ad;"),
            ]
            widgets += [self._pair_row(p) for p in s.confusable]
        self.setLayout(column(widgets))

    def _spread(self) -> Figure:
        s = self.side
        plot = BarsPlot()
        plot.set_bars(
            [f"{c} ({s.counts[c]})" for c in s.classes],
            [s.spread[c] for c in s.classes],
            "distance to the centre",
        )
        plot.bar_clicked.connect(lambda k, _m: self._select_class(k))
        fig = Figure("Spread of each class", plot)
        fig.set_text(
            "Mean cosine distance of the class's images to its centre: wide classes hold several kinds of image "
            "(or mistakes). Click a bar to select the class."
        )
        return fig

    def _select_class(self, k: int) -> None:
        c = self.side.classes[k]
        self.ctx.select(self.ids_of[c], f"{len(self.ids_of[c])} images labelled {c}")

    def _neighbours(self) -> Figure:
        s = self.side
        plot = MatrixPlot(300)
        plot.set_matrix(s.neighbour_share, [(c, i, i + 1) for i, c in enumerate(s.classes)], levels=(0.0, 1.0))
        fig = Figure("Where each class's 5 nearest neighbours fall", plot)
        plot.cell_hovered.connect(lambda r, k: fig.set_readout(self._share(r, k)))
        plot.cell_clicked.connect(self._on_cell)
        fig.set_text(
            "Row: the class of the image; column: the class of its neighbours (share, 0 … 1). A bright "
            "cell off the diagonal: two classes that look alike. Click a cell: the images of both classes."
        )
        return fig

    def _share(self, r: int, k: int) -> str:
        s = self.side
        return f"{s.classes[r]} → {s.classes[k]}: {s.neighbour_share[r, k]:.0%} of the neighbours"

    def _on_cell(self, r: int, k: int, _modifiers: object) -> None:
        s = self.side
        ids = (
            np.concatenate([self.ids_of[s.classes[r]], self.ids_of[s.classes[k]]])
            if r != k
            else self.ids_of[s.classes[r]]
        )
        self.ctx.select(ids, f"{len(ids)} images: {self._share(r, k)}")

    def _pair_row(self, p: Any) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 2, 0, 6)
        grid.setHorizontalSpacing(4)
        text = wrapping_label(
            f"<b>{p.a}</b> ↔ <b>{p.b}</b>: {p.neighbour_share:.0%} of the neighbours mixed; "
            f"centre similarity {p.centre_similarity:.3f}"
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        grid.addWidget(text, 0, 0, 1, 3)
        for j, (a, b, sim) in enumerate(p.examples[:3]):
            button = QToolButton()
            button.setIcon(QIcon(self._pair_pixmap(a, b)))
            button.setIconSize(QSize(92, 44))
            button.setText(f"{sim:.3f}")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setToolTip(f"{self.ctx.name(a)} ({p.a}) ↔ {self.ctx.name(b)} ({p.b}): cosine {sim:.3f}")
            tip = button.toolTip()
            button.clicked.connect(lambda _c=False, x=a, y=b, t=tip: self.ctx.select(np.array([x, y]), t))
            grid.addWidget(button, 1, j)
        grid.setColumnStretch(3, 1)
        return box

    def _pair_pixmap(self, a: int, b: int) -> QPixmap:
        """The two thumbnails side by side, 44 px high."""
        from PySide6.QtGui import QColor, QPainter

        out = QPixmap(92, 44)
        out.fill(QColor("#25272b"))
        painter = QPainter(out)
        for x, image_id in ((0, a), (48, b)):
            pix = self.ctx.thumbnail(int(image_id))
            if pix is not None:
                pix = pix.scaled(44, 44, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
                painter.drawPixmap(x + (44 - pix.width()) // 2, (44 - pix.height()) // 2, pix)
        painter.end()
        return out


# -- image–image similarity -------------------------------------------------------------------------------------------
class MatrixSection(QWidget):
    def __init__(self, result: AnalysisResult, ctx: Context) -> None:
        super().__init__()
        self.m: SimilarityMatrix = result.matrix
        self.ctx = ctx
        self.bounds = self.m.boundaries()
        self.plot = MatrixPlot(320)
        self.plot.set_matrix(self.m.values, self.bounds)
        self.figure = Figure("Image–image similarity", self.plot)
        self.plot.cell_hovered.connect(lambda r, k: self.figure.set_text(self._caption(), "", self._cell(r, k)))
        self.plot.cell_clicked.connect(self._on_cell)
        self.figure.set_text(self._caption())
        widgets: list[QWidget] = [heading(f"Images compared with each other, by {self.m.ordered_by}")]
        if self.m.sampled:
            widgets.append(
                note_label(
                    f"{self.m.total:,} images are too many to draw one by one: a stratified sample of "
                    f"{len(self.m.image_ids):,} is shown (every {self.m.ordered_by.split(' ')[0]} kept in proportion); "
                    "no matrix of all pairs is made."
                )
            )
        widgets.append(self.figure)
        self.setLayout(column(widgets))

    def _caption(self) -> str:
        return (
            f"Cosine similarity of {self.m.caption()}; groups numbered as on the left axis. Click a cell: "
            "those two images; Shift+click: every image of the two groups."
        )

    def _group_of(self, row: int) -> tuple[str, int, int]:
        return next(b for b in self.bounds if b[1] <= row < b[2])

    def _cell(self, r: int, k: int) -> str:
        ids, g = self.m.image_ids, self.m.groups
        return (
            f"{self.ctx.name(int(ids[r]))} ({g[r]}) ↔ {self.ctx.name(int(ids[k]))} ({g[k]}): {self.m.values[r, k]:.3f}"
        )

    def _on_cell(self, r: int, k: int, modifiers: object) -> None:
        ids = self.m.image_ids
        if _has(modifiers, SHIFT):
            (ga, a0, a1), (gb, b0, b1) = self._group_of(r), self._group_of(k)
            chosen = np.unique(np.concatenate([ids[a0:a1], ids[b0:b1]]))
            what = f"{len(chosen)} images of {ga}" + (f" and {gb}" if gb != ga else "")
            self.ctx.select(chosen, what + (" (of the sample shown)" if self.m.sampled else ""))
            return
        self.ctx.select(np.unique(ids[[r, k]]), self._cell(r, k))
