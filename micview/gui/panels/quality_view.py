"""The Quality view: run the data-quality check as a job and go through what it found, with thumbnails.

One page per kind of issue — near duplicates side by side with their distance, suspected label mistakes with the
suggested label, outliers, blurry / dark / saturated / low-information images, clusters with their
representative and name. Selecting rows selects those images in the session (grid, map and viewer follow).
The actions write labels (accept the suggested label) or tags (``duplicate``, ``exclude``) as single undoable
steps; Ctrl+Z works here as in the window. The result shown is the latest stored one
(:func:`micview.core.quality.load_quality`), so a ``micview quality`` run from the command line shows here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QPoint, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPainter, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from micview.gui.controllers.analysis import DUPLICATE_TAG, EXCLUDE_TAG, AnalysisController, QualityRequest
from micview.gui.session import Session
from micview.gui.widgets import compact_combo, wrapping_label
from micview.gui.workers import Job

if TYPE_CHECKING:
    from micview.core.quality import QualityResult

MAX_ROWS = 200  # rows per page (most severe first); the page says when there are more
THUMB = 72
ID_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Row:
    ids: list[int]  # the images of the row (a duplicate group: all of them)
    text: str


class IssuePage(QWidget):
    """A table of rows (thumbnails, what is wrong) and the page's action buttons."""

    def __init__(self, view: QualityView, intro: str, strip: int = 1, none: str = "Nothing found.") -> None:
        super().__init__()
        self.view = view
        self.strip = strip  # thumbnails side by side per row
        self.none = none  # what an empty page says
        self.rows: list[Row] = []
        self.intro = wrapping_label(intro, "color: #a0a6ad;")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["", "what was found"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(True)
        self.table.setIconSize(QSize((THUMB + 4) * strip, THUMB))
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 6)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(0, (THUMB + 4) * strip + 10)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_rows_selected)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.empty = wrapping_label("", "color: #a0a6ad; padding: 12px;")
        col = QVBoxLayout(self)
        col.addWidget(self.intro)
        col.addWidget(self.table, 1)
        col.addWidget(self.empty)
        col.addStretch(0)
        col.addLayout(self.buttons)
        self.action_buttons: list[QPushButton] = []

    def add_action(self, text: str, tip: str, act: Callable[[list[Row]], object]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setEnabled(False)
        button.clicked.connect(lambda: act(self.selected()))
        self.buttons.addWidget(button)
        self.action_buttons.append(button)
        return button

    def set_rows(self, rows: list[Row], note: str = "") -> None:
        keep = sorted({i.row() for i in self.table.selectedIndexes()})
        self.rows = rows
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            icon = QTableWidgetItem()
            icon.setIcon(QIcon(self._strip(row.ids)))
            icon.setToolTip("\n".join(self.view.name(i) for i in row.ids))
            text = QTableWidgetItem(row.text)
            text.setToolTip(row.text)
            self.table.setItem(r, 0, icon)
            self.table.setItem(r, 1, text)
        for r in keep:  # the same rows stay chosen when the texts change (labels accepted, tags added)
            if r < len(rows):
                self._add_row_to_selection(r)
        self.table.blockSignals(False)
        self.table.setVisible(bool(rows))
        self.empty.setText(note or self.none)
        self.empty.setVisible(not rows)
        self._update_actions()

    def _add_row_to_selection(self, r: int) -> None:
        model = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        model.select(self.table.model().index(r, 0), flags)

    def _strip(self, ids: list[int]) -> QPixmap:
        out = QPixmap((THUMB + 4) * self.strip, THUMB)
        out.fill(QColor(0, 0, 0, 0))
        painter = QPainter(out)
        for k, image_id in enumerate(ids[: self.strip]):
            pix = self.view.session.thumbnails.get(int(image_id))
            if pix is None:
                continue
            pix = pix.scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            painter.drawPixmap(k * (THUMB + 4) + (THUMB - pix.width()) // 2, (THUMB - pix.height()) // 2, pix)
        if len(ids) > self.strip:  # how many more, on a dark chip (readable on any thumbnail)
            text = f"+{len(ids) - self.strip}"
            box = painter.fontMetrics().boundingRect(text).adjusted(-4, -1, 4, 1)
            box.moveBottomRight(out.rect().bottomRight() - QPoint(2, 2))
            painter.fillRect(box, QColor(20, 21, 24, 210))
            painter.setPen(QColor("#ffffff"))
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.end()
        return out

    def select_rows(self, rows: list[int]) -> None:
        """Choose exactly these rows (as clicks would; scripts and tests)."""
        self.table.clearSelection()
        for r in rows:
            self._add_row_to_selection(r)

    def selected(self) -> list[Row]:
        return [self.rows[r] for r in sorted({i.row() for i in self.table.selectedIndexes()}) if r < len(self.rows)]

    def _update_actions(self) -> None:
        chosen = bool(self.selected())
        for button in self.action_buttons:
            button.setEnabled(chosen)

    def _on_rows_selected(self) -> None:
        self._update_actions()
        ids = [i for row in self.selected() for i in row.ids]
        if ids:
            self.view.ctl.select(ids, source=self.view)


class QualityView(QDialog):
    """Run and browse the data-quality check (see the module docstring); one per window, not modal."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Data quality")
        self.session = session
        self.ctl = AnalysisController(session)
        self.found: QualityResult | None = None
        self._stale = False  # the pages wait for the view to be shown again
        self.job: Job | None = None
        self.model_box, self.task_box = compact_combo(10), compact_combo(10)
        self.cluster_box = QComboBox()
        self.cluster_box.addItem("k-means", "kmeans")
        self.cluster_box.addItem("HDBSCAN", "hdbscan")
        self.cluster_box.setToolTip("k-means with k clusters, or HDBSCAN (finds its own number; some images stay out)")
        self.k_spin = QSpinBox(minimum=1, maximum=200, value=1)
        self.k_spin.setSpecialValueText("auto")
        self.k_spin.setToolTip("k-means clusters (auto: about √(images / 2), 2 … 40)")
        self.run_button = QPushButton("Check quality")
        self.run_button.setDefault(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.summary = wrapping_label()
        self.message = wrapping_label(style="color: #d9b45a;")  # what the last action did
        self.tabs = QTabWidget()
        self._pages()
        self._layout()
        self._connect()
        self._undo_keys()
        self.resize(1000, 660)
        self.refresh_choices()
        self.load()

    # -- construction ------------------------------------------------------------------------------------------
    def _pages(self) -> None:
        self.duplicates = IssuePage(
            self,
            "Groups of near duplicates (resized, re-compressed, cropped or brightened "
            "copies), largest first. “Leak”: a group spans folders or labels.",
            4,
            "No near duplicates: no image has a resized, re-compressed, cropped or brightened copy here.",
        )
        self.duplicates.add_action(
            "Tag copies “duplicate”",
            "Tag every image of the selected groups “duplicate” but the original: the one with the most pixels, "
            "then the first imported (Ctrl+Z undoes)",
            lambda r: self._tag_copies(r, DUPLICATE_TAG),
        )
        self.duplicates.add_action(
            "Tag copies “exclude”",
            "Tag every image of the selected groups “exclude” but the original (Ctrl+Z undoes)",
            lambda r: self._tag_copies(r, EXCLUDE_TAG),
        )
        self.mislabels = IssuePage(
            self,
            "Images whose label the other images' labels contradict (confident learning "
            "on out-of-fold probabilities), most suspect first.",
            none="No suspected label mistakes (or no labels were checked: choose the labels above).",
        )
        self.accept_button = self.mislabels.add_action(
            "Accept suggested label",
            "Give the selected images the suggested label (one step; Ctrl+Z undoes)",
            self._accept,
        )
        self.mislabels.add_action(
            "Tag “exclude”", "Tag the selected images “exclude” (Ctrl+Z undoes)", lambda r: self._tag(r, EXCLUDE_TAG)
        )
        self.outliers = IssuePage(
            self,
            "Images far from every other image (mean distance to their 10 nearest ÷ the "
            "median image's), most isolated first.",
            none="No outliers: every image has near neighbours.",
        )
        self.poor = IssuePage(
            self,
            "Blurry, dark, saturated (clipped) and low-information images, from image statistics of the thumbnails.",
            none="No blurry, dark, saturated or low-information images.",
        )
        for page in (self.outliers, self.poor):
            page.add_action(
                "Tag “exclude”",
                "Tag the selected images “exclude” (Ctrl+Z undoes)",
                lambda r: self._tag(r, EXCLUDE_TAG),
            )
        self.clusters = IssuePage(
            self,
            "Clusters of similar images, each with its representative (the image nearest "
            "its centre, shown first) and a name. Select a row to select its images.",
            4,
        )
        self.pages = [
            (self.duplicates, "Duplicates"),
            (self.mislabels, "Label mistakes"),
            (self.outliers, "Outliers"),
            (self.poor, "Poor images"),
            (self.clusters, "Clusters"),
        ]
        for page, title in self.pages:
            self.tabs.addTab(page, title)

    def _layout(self) -> None:
        top = QHBoxLayout()
        for label, w in (("Model", self.model_box), ("Labels", self.task_box), ("Clusters", self.cluster_box)):
            top.addWidget(QLabel(label))
            top.addWidget(w, 2 if w is not self.cluster_box else 0)
        top.addWidget(self.k_spin)
        top.addWidget(self.run_button)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addWidget(self.progress)
        col.addWidget(self.summary)
        col.addWidget(self.tabs, 1)
        col.addWidget(self.message)

    def _connect(self) -> None:
        self.run_button.clicked.connect(self._on_run_clicked)
        self.cluster_box.currentIndexChanged.connect(lambda _i: self.k_spin.setEnabled(self._kmeans()))
        s = self.session
        s.quality_changed.connect(self.load)
        s.project_changed.connect(self._on_project_changed)
        s.labels_changed.connect(lambda _t: self.fill())
        s.fields_changed.connect(self.fill)  # tags
        s.tasks_changed.connect(self.refresh_choices)

    def _undo_keys(self) -> None:
        """Ctrl+Z / Ctrl+Shift+Z undo and redo here too (the window's menu shortcuts do not reach a dialog)."""
        undo = self.session.undo_stack.createUndoAction(self, "Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.session.undo_stack.createRedoAction(self, "Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        self.addActions([undo, redo])

    def _kmeans(self) -> bool:
        return bool(self.cluster_box.currentData() == "kmeans")

    # -- choices ------------------------------------------------------------------------------------------------
    def refresh_choices(self) -> None:
        keep_model, keep_task = self.model_box.currentText(), self.task_box.currentText()
        self.model_box.clear()
        self.task_box.clear()
        if self.session.project is None:
            return
        self.model_box.addItems(self.ctl.model_choices())
        self.task_box.addItem("(no labels)", None)
        for task in self.ctl.label_tasks():
            self.task_box.addItem(task, task)
        self.preset(keep_model, keep_task or self.session.task.name)

    def preset(self, model_id: str, task: str | None) -> None:
        """Choose ``model_id`` and ``task`` where they are listed (the Analysis tab's choices)."""
        if model_id:
            if self.model_box.findText(model_id) < 0:
                self.model_box.addItem(model_id)
            self.model_box.setCurrentText(model_id)
        if task and self.task_box.findText(task) >= 0:
            self.task_box.setCurrentText(task)

    def request(self) -> QualityRequest:
        k = self.k_spin.value()
        return QualityRequest(
            self.model_box.currentText().strip() or self.session.model_id,
            self.task_box.currentData(),
            str(self.cluster_box.currentData()),
            k if self._kmeans() and k >= 2 else None,
        )

    # -- running --------------------------------------------------------------------------------------------------
    def _on_run_clicked(self) -> None:
        if self.job is not None:
            self.job.cancel()
            return
        if self.session.project is None or not len(self.session.catalog):
            self.message.setText("Open a project first." if self.session.project is None else "Add images first.")
            return
        self.message.setText("")
        self.job = self.ctl.run_quality(self.request(), on_error=self._on_failed, on_cancel=self._on_cancelled)
        if self.job is None:
            self.message.setText("Read-only project: the quality check cannot be stored here.")
            return
        self.job.yielded.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.run_button.setText("Cancel")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)

    def _on_progress(self, p: object) -> None:
        done, total, message = p.done, p.total, p.message  # type: ignore[attr-defined]
        self.progress.setRange(0, total)
        self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{message} %p%" if total else message)
        self.progress.setTextVisible(True)

    def _on_finished(self) -> None:
        self.job = None
        self.run_button.setText("Check quality")
        self.progress.setVisible(False)

    def _on_failed(self, message: str, details: str) -> None:
        self.message.setText(f"The quality check stopped: {message}")
        if details:
            self.session.errors.report("Quality check failed", message, details)

    def _on_cancelled(self) -> None:
        self.message.setText("Cancelled: the last stored result is shown.")

    def _on_project_changed(self, _project: object) -> None:
        if self.job is not None:
            self.job.cancel()
        self.refresh_choices()
        self.load()

    # -- showing ----------------------------------------------------------------------------------------------------
    def name(self, image_id: int) -> str:
        return self.session.catalog.name(int(image_id))

    def load(self) -> None:
        """Show the latest stored result (none yet: say how to get one)."""
        self.found = self.ctl.quality()
        r = self.found
        if r is None:
            self.summary.setText(
                "No quality check yet for this project. Choose the model and the labels to check, then Check quality."
                if self.session.project
                else "Open a project first."
            )
        else:
            self.summary.setText(summary_text(r))
        self.fill()

    def showEvent(self, event: QShowEvent) -> None:
        if self._stale:
            self.fill()
        super().showEvent(event)

    def fill(self) -> None:
        """(Re)build the pages; while the view is closed, only remember to (labels change with every key press)."""
        self._stale = not self.isVisible()
        if self._stale:
            return
        r = self.found
        if r is None:
            for page, title in self.pages:
                page.set_rows([], "No quality check yet." if self.session.project is not None else "")
                self.tabs.setTabText(self.tabs.indexOf(page), title)
            return
        tags = self.ctl.tags()
        rows = {
            self.duplicates: duplicate_rows(r, self.name, tags),
            self.mislabels: self._mislabel_rows(r, tags),
            self.outliers: outlier_rows(r, self.name, tags),
            self.poor: poor_rows(r, self.name, tags),
            self.clusters: cluster_rows(r),
        }
        for page, title in self.pages:
            found = rows[page]
            page.set_rows(found[:MAX_ROWS])
            more = f" (first {MAX_ROWS} of {len(found)})" if len(found) > MAX_ROWS else f" ({len(found)})"
            self.tabs.setTabText(self.tabs.indexOf(page), title + more)
        writable = self.ctl.can_relabel(r.task)
        self.accept_button.setToolTip(
            "Give the selected images the suggested label (one step; Ctrl+Z undoes)"
            if writable
            else f"{r.task} are label groups derived from another task: correct the images' labels there by hand"
            if r.task
            else "The check ran without labels"
        )
        if not writable:
            self.accept_button.setEnabled(False)

    def _mislabel_rows(self, r: QualityResult, tags: dict[int, list[str]]) -> list[Row]:
        project = self.session.project
        now = project.labels.labels(r.task) if project is not None and r.task and self.ctl.can_relabel(r.task) else {}
        out = []
        c = r.columns
        index = {int(i): k for k, i in enumerate(r.image_ids.tolist())}
        for image_id in r.label_issues().tolist():
            k = index[image_id]
            given, suggested = r.label_of(int(c["given_label"][k])), r.label_of(int(c["suggested_label"][k]))
            score = float(c["label_issue_score"][k])
            text = f"{self.name(image_id)}\nlabel: {given}  →  suggested: {suggested}  (score {score:.2f})"
            current = now.get(image_id)
            if current is not None and current != given:
                text += f"\n✓ now labelled {current}"
            out.append(Row([image_id], text + _tag_text(tags, [image_id])))
        return out

    # -- actions ------------------------------------------------------------------------------------------------------
    def _accept(self, rows: list[Row]) -> None:
        r = self.found
        if r is None or not r.task:
            return
        index = {int(i): k for k, i in enumerate(r.image_ids.tolist())}
        labels = {}
        for row in rows:
            label = r.label_of(int(r.columns["suggested_label"][index[row.ids[0]]]))
            if label is not None:
                labels[row.ids[0]] = label
        n = self.ctl.accept_suggested(r.task, labels)
        if n:
            self.message.setText(f"{n} suggested label{'s' * (n != 1)} accepted for {r.task} (Ctrl+Z undoes).")

    def _tag(self, rows: list[Row], tag: str) -> None:
        ids = [i for row in rows for i in row.ids]
        n = self.ctl.tag(ids, tag)
        self.message.setText(
            f"{n} image{'s' * (n != 1)} tagged “{tag}” (Ctrl+Z undoes)."
            if n
            else f"The selected images are already tagged “{tag}”."
        )

    def _tag_copies(self, rows: list[Row], tag: str) -> None:
        """Tag every image of each group but the one to keep (the most pixels, then the first imported)."""
        self._tag([Row([i for i in row.ids if i != self.ctl.original_of(row.ids)], "") for row in rows], tag)


# -- rows of each page (Qt-free but for the text) -----------------------------------------------------------------
def _tag_text(tags: dict[int, list[str]], ids: list[int]) -> str:
    found = sorted({t for i in ids for t in tags.get(i, [])})
    return f"\ntags: {', '.join(found)}" if found else ""


def summary_text(r: QualityResult) -> str:
    s = r.summary()
    labels = (
        f"{s['label_issues']} suspected label mistakes of {s['labelled']:,} labelled ({r.task})"
        if r.task
        else "labels not checked (no task chosen)"
    )
    return (
        f"{s['images']:,} images checked with {r.model_id}" + (f", labels of {r.task}" if r.task else "") + ".\n"
        f"{s['near_duplicates']} near duplicates in {s['duplicate_groups']} groups ({s['leaks']} across folders or "
        f"labels) · {labels} · {s['outliers']} outliers · blurry {s['blurry']}, dark {s['dark']}, saturated "
        f"{s['saturated']}, low information {s['low_information']} · {len(r.cluster_names)} clusters.\n"
        "The map can be coloured by any of these (Colour ▸ Quality: …)."
    )


def duplicate_rows(r: QualityResult, name: Callable[[int], str], tags: dict[int, list[str]]) -> list[Row]:
    c = r.columns
    index = {int(i): k for k, i in enumerate(r.image_ids.tolist())}
    leaks = {1: "leak across folders", 2: "leak across labels", 3: "leak across folders and labels"}
    out = []
    for group in r.duplicate_groups():
        ids = [int(i) for i in group]
        dist = max(float(c["duplicate_distance"][index[i]]) for i in ids)
        leak = leaks.get(int(c["leak"][index[ids[0]]]), "")
        names = ", ".join(name(i) for i in ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
        text = f"{len(ids)} images, distance ≤ {dist:.4f}{' · ' + leak if leak else ''}\n{names}"
        out.append(Row(ids, text + _tag_text(tags, ids)))
    return out


def outlier_rows(r: QualityResult, name: Callable[[int], str], tags: dict[int, list[str]]) -> list[Row]:
    c = r.columns
    index = {int(i): k for k, i in enumerate(r.image_ids.tolist())}
    return [
        Row(
            [i],
            f"{name(i)}\noutlier score {c['outlier_score'][index[i]]:.2f} (1 = typical), uniqueness "
            f"{c['uniqueness'][index[i]]:.2f}" + _tag_text(tags, [i]),
        )
        for i in r.ranked("outlier_score", flag="is_outlier").tolist()
    ]


POOR = (
    ("is_blurry", "blurry"),
    ("is_dark", "dark"),
    ("is_saturated", "saturated"),
    ("is_low_information", "low information"),
)


def poor_rows(r: QualityResult, name: Callable[[int], str], tags: dict[int, list[str]]) -> list[Row]:
    c = r.columns
    flags = np.stack([c[k].astype(bool) for k, _ in POOR], 1)
    rows = np.flatnonzero(flags.any(1))
    out = []
    for k in rows[np.argsort(-flags[rows].sum(1), kind="stable")].tolist():
        what = ", ".join(label for (col, label), on in zip(POOR, flags[k], strict=True) if on)
        i = int(r.image_ids[k])
        text = (
            f"{name(i)}\n{what} · blur {c['blur'][k]:.4g}, brightness {c['brightness'][k]:.2f}, clipped "
            f"{c['saturation'][k]:.0%}, entropy {c['entropy'][k]:.1f} bits"
        )
        out.append(Row([i], text + _tag_text(tags, [i])))
    return out


def cluster_rows(r: QualityResult) -> list[Row]:
    cluster = r.columns["cluster"]
    out = []
    for k, name in enumerate(r.cluster_names):
        members = r.image_ids[cluster == k].tolist()
        rep = r.cluster_representatives[k] if k < len(r.cluster_representatives) else (members[0] if members else -1)
        ids = [int(rep), *[int(i) for i in members if i != rep]] if rep >= 0 else [int(i) for i in members]
        out.append(Row(ids, f"{name}\n{len(members)} images (the first shown is its representative)"))
    noise = r.image_ids[cluster < 0].tolist()
    if noise:
        out.append(Row([int(i) for i in noise], f"not in any cluster\n{len(noise)} images (HDBSCAN's noise)"))
    return out
