"""The Analysis tab's part on prompt groups (CLIP-family models): similarity distributions per group, the preference
margin with how many images prefer each group, the images between two groups, each prompt pair's margin, the
preferred group by label, the prompt–prompt matrix, the prompts in 2-D (PCA or t-SNE), silhouette and
nearest-prompt accuracy. Clicks select images through :class:`~micview.gui.panels.analysis_sections.Context`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from micview.gui.panels.analysis_plots import (
    BarsPlot,
    Figure,
    HistogramPlot,
    MatrixPlot,
    PointsPlot,
    colour,
    legend_html,
    short,
)
from micview.gui.panels.analysis_sections import SCATTER_MAX, Context, column, fmt, heading
from micview.gui.widgets import wrapping_label

if TYPE_CHECKING:
    from micview.ml.analysis import AnalysisResult, ConceptAnalysis


class ConceptSection(QWidget):
    def __init__(self, result: AnalysisResult, ctx: Context) -> None:
        super().__init__()
        assert result.concept is not None
        self.c: ConceptAnalysis = result.concept
        self.ctx = ctx
        self.nearest = self.c.prompt_sims.argmax(1) if self.c.prompt_sims.size else np.zeros(0, np.int64)
        self.labels = np.array([lab if lab is not None else "" for lab in result.labels], dtype=object)
        c = self.c
        name = f" “{result.groups.name}”" if result.groups else ""
        self.summary = wrapping_label(self._summary_text())
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        widgets: list[QWidget] = [heading(f"Prompt groups{name} and the images"), self.summary]
        self.distributions = self._distributions()
        self.margin = self._margin()
        widgets += [self.distributions, self.margin]
        self.between = self._between() if len(c.groups) >= 2 else None
        if self.between is not None:
            widgets.append(self.between)
        if c.pair_margins is not None:
            widgets.append(self._pairs())
        if c.label_preference:
            widgets += [
                wrapping_label("Preferred group by label (click a cell: those images)", "font-weight: bold;"),
                self._label_table(),
            ]
        self.text_matrix = self._text_matrix()
        self.prompt_map = self._prompt_map()
        widgets += [self.text_matrix, self.prompt_map]
        self.setLayout(column(widgets))

    def _summary_text(self) -> str:
        c, ts = self.c, self.c.text_similarity
        prefer = ", ".join(f"<b>{g}</b> {n}" for g, n in c.counts().items())
        lines = [
            f"{len(c.image_ids):,} images × {len(c.prompts)} prompts. Images preferring each group: {prefer}.",
            f"Silhouette of the prompt groups {fmt(c.prompt_silhouette)} (−1 … 1; above 0: the groups' prompts "
            f"sit apart). Mean prompt–prompt similarity {fmt(ts.get('all_pairs'))}: within groups "
            f"{fmt(ts.get('within_groups'))}, between groups {fmt(ts.get('between_groups'))}.",
        ]
        n = c.nearest_prompt
        if n:
            recall = ", ".join(f"{g} {v:.0%}" for g, v in n["recall_per_group"].items())
            lines.append(
                f"Nearest-prompt accuracy on {n['images']} labelled images: <b>{n['group_accuracy']:.1%}</b> "
                f"(balanced {n['group_balanced_accuracy']:.1%}; single nearest prompt "
                f"{n['single_prompt_accuracy']:.1%}); recall {recall}."
            )
        elif c.label_preference:
            lines.append("No label names a group, so there is no nearest-prompt accuracy.")
        return "<br>".join(lines)

    def _legend(self) -> str:
        return legend_html([(g, colour(i)) for i, g in enumerate(self.c.groups)])

    def _distributions(self) -> Figure:
        c = self.c
        plot = HistogramPlot()
        series = [(c.prompt_sims[:, c.prompt_group == i].ravel(), colour(i)) for i in range(len(c.groups))]
        plot.set_series(series, x_label="cosine similarity", y_label="image × prompt")
        fig = Figure("Image–prompt similarity by group", plot)
        fig.set_text("Every image's similarity with every prompt of each group.", self._legend())
        return fig

    def _margin(self) -> Figure:
        c = self.c
        plot = HistogramPlot()
        series = [(c.margin[c.preferred == i], colour(i)) for i in range(len(c.groups))]
        plot.set_series(series, x_label="margin", y_label="images", marker=0.0 if len(c.groups) == 2 else None)
        plot.bin_clicked.connect(self._on_margin_bin)
        fig = Figure("Preference margin per image", plot)
        counts = [(f"{g}: {n:,} images", colour(i)) for i, (g, n) in enumerate(c.counts().items())]
        fig.set_text(f"Margin = {c.margin_meaning}. Click a bar to select its images.", legend_html(counts))
        return fig

    def _on_margin_bin(self, lo: float, hi: float, _modifiers: object) -> None:
        m = self.c.margin
        rows = np.flatnonzero((m >= lo) & ((m < hi) | (m == hi)))
        self.ctx.select(self.c.image_ids[rows], f"{len(rows)} images with a margin from {lo:.4f} to {hi:.4f}")

    def _between(self) -> Figure:
        c = self.c
        rows = np.arange(len(c.image_ids))
        if len(rows) > SCATTER_MAX:
            rows = rows[:: int(np.ceil(len(rows) / SCATTER_MAX))]
        self._between_rows = rows
        plot = PointsPlot()
        plot.set_points(
            c.group_sims[rows][:, :2],
            c.preferred[rows],
            f"→ {short(c.groups[0], 22)}",
            f"→ {short(c.groups[1], 22)}",
            size=6,
        )
        plot.add_diagonal()
        plot.point_clicked.connect(self._on_image_point)
        fig = Figure(f"Images between “{c.groups[0]}” and “{c.groups[1]}”", plot)
        more = (
            f" {len(rows):,} of {len(c.image_ids):,} images shown (an even sample)."
            if len(rows) < len(c.image_ids)
            else ""
        )
        others = " Colour: the preferred group." if len(c.groups) == 2 else " Colour: the preferred of all groups."
        plot.point_hovered.connect(lambda k: fig.set_readout(self._point_text(k)))
        fig.set_text(
            f"Each image's mean similarity to the prompts of each group (the axes); the dashed line is a margin of 0. "
            "Click a point to "
            f"select the image.{others}{more}",
            self._legend(),
        )
        return fig

    def _point_text(self, k: int) -> str:
        r = int(self._between_rows[k])
        c = self.c
        return (
            f"{self.ctx.name(int(c.image_ids[r]))}: prefers {c.groups[int(c.preferred[r])]}, margin {c.margin[r]:.4f}"
        )

    def _on_image_point(self, k: int, _modifiers: object) -> None:
        r = int(self._between_rows[k])
        image_id = int(self.c.image_ids[r])
        self.ctx.select(np.array([image_id]), self._point_text(k))

    def _pairs(self) -> Figure:
        c = self.c
        assert c.pair_margins is not None
        plot = BarsPlot()
        means = c.pair_margins.mean(0)
        plot.set_bars(
            [f"pair {p}" for p in c.pair_ids],
            means.tolist(),
            "mean margin",
            [colour(0 if v >= 0 else 1) for v in means],
        )
        plot.bar_clicked.connect(self._on_pair)
        fig = Figure(f"Margin of each prompt pair ({c.groups[0]} − {c.groups[1]})", plot)
        first = [int((c.pair_margins[:, j] > 0).sum()) for j in range(len(c.pair_ids))]
        lines = ", ".join(f"pair {p}: {n}" for p, n in zip(c.pair_ids, first, strict=True))
        fig.set_text(
            f"Images preferring {c.groups[0]} per pair: {lines}. Click a bar: the images that pair puts on "
            f"the {c.groups[0]} side."
        )
        return fig

    def _on_pair(self, j: int, _modifiers: object) -> None:
        c = self.c
        assert c.pair_margins is not None
        rows = np.flatnonzero(c.pair_margins[:, j] > 0)
        self.ctx.select(c.image_ids[rows], f"{len(rows)} images pair {c.pair_ids[j]} puts on the {c.groups[0]} side")

    def _label_table(self) -> QTableWidget:
        c = self.c
        labels = list(c.label_preference)
        table = QTableWidget(len(labels), len(c.groups))
        table.setHorizontalHeaderLabels([short(g, 14) for g in c.groups])
        table.setVerticalHeaderLabels([short(lab, 22) for lab in labels])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setDefaultSectionSize(20)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for r, lab in enumerate(labels):
            for k, g in enumerate(c.groups):
                item = QTableWidgetItem(str(c.label_preference[lab][g]))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip(f"{lab} → prefers {g}")
                table.setItem(r, k, item)
        table.setFixedHeight(min(260, 26 + 20 * len(labels)))
        table.cellClicked.connect(lambda r, k: self._on_label_cell(labels[r], k))
        self.label_table = table
        return table

    def _on_label_cell(self, label: str, k: int) -> None:
        self.ctx.select(self._label_rows(label, k), f"images labelled {label} that prefer {self.c.groups[k]}")

    def _label_rows(self, label: str, k: int) -> np.ndarray:
        rows = np.flatnonzero((self.labels == label) & (self.c.preferred == k))
        return np.asarray(self.c.image_ids[rows], np.int64)

    def _text_matrix(self) -> Figure:
        c = self.c
        plot = MatrixPlot(280)
        bounds = [
            (g, int(np.flatnonzero(c.prompt_group == i)[0]), int(np.flatnonzero(c.prompt_group == i)[-1]) + 1)
            for i, g in enumerate(c.groups)
        ]
        plot.set_matrix(c.text_sims, bounds)
        fig = Figure(f"Prompt–prompt similarity ({len(c.prompts)} prompts)", plot)
        plot.cell_hovered.connect(lambda r, k: fig.set_readout(self._prompt_pair(r, k)))
        plot.cell_clicked.connect(self._on_prompt_cell)
        fig.set_text(
            "Rows and columns: the prompts, by group (numbered as on the left axis). Click a cell: the "
            "images whose nearest prompt is one of the two."
        )
        return fig

    def _prompt_pair(self, r: int, k: int) -> str:
        c = self.c
        return f"“{c.prompts[r]}” ↔ “{c.prompts[k]}”: {c.text_sims[r, k]:.3f}"

    def _on_prompt_cell(self, r: int, k: int, _modifiers: object) -> None:
        rows = np.flatnonzero(np.isin(self.nearest, [r, k]))
        self.ctx.select(self.c.image_ids[rows], f"{len(rows)} images nearest to {self._prompt_pair(r, k)}")

    def _prompt_map(self) -> Figure:
        c = self.c
        plot = PointsPlot(230)
        self.prompt_plot = plot
        fig = Figure("The prompts in 2-D", plot)
        self.map_kind = QComboBox()
        self.map_kind.addItem("PCA", "pca")
        if c.text_tsne is not None:
            self.map_kind.addItem("t-SNE", "tsne")
        self.map_kind.setToolTip("t-SNE needs 5 prompts or more")
        self.map_kind.currentIndexChanged.connect(lambda _i: self._draw_prompt_map(plot))
        self._draw_prompt_map(plot)
        plot.point_hovered.connect(lambda k: fig.set_readout(self._prompt(k)))
        plot.point_clicked.connect(self._on_prompt_point)
        fig.set_text(
            f"Colour: the group. Silhouette of the groups {fmt(c.prompt_silhouette)}. Click a prompt: the "
            "images whose nearest prompt it is.",
            self._legend(),
        )
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(QLabel("Layout"))
        line.addWidget(self.map_kind, 1)
        fig.add_tools(row)
        return fig

    def _draw_prompt_map(self, plot: PointsPlot) -> None:
        c = self.c
        tsne = self.map_kind.currentData() == "tsne" and c.text_tsne is not None
        xy = c.text_tsne if tsne and c.text_tsne is not None else c.text_pca
        kind = "t-SNE" if tsne else "PCA"
        plot.set_points(xy, c.prompt_group, f"{kind} 1", f"{kind} 2", size=10)

    def _prompt(self, k: int) -> str:
        c = self.c
        return f"“{c.prompts[k]}” ({c.groups[int(c.prompt_group[k])]})"

    def _on_prompt_point(self, k: int, _modifiers: object) -> None:
        rows = np.flatnonzero(self.nearest == k)
        self.ctx.select(self.c.image_ids[rows], f"{len(rows)} images whose nearest prompt is {self._prompt(k)}")
