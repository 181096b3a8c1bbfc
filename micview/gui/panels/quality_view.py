"""The Quality view: run the data-quality check as a job and go through what it found, with thumbnails.

One page per kind of issue — near duplicates side by side with their distance, suspected label mistakes with the
suggested label, outliers, blurry / dark / saturated / low-information images, clusters with their
representative and name. Selecting rows selects those images in the session (grid, map and viewer follow).
The actions write labels (accept the suggested label) or tags (``duplicate``, ``exclude``) as single undoable
steps; Ctrl+Z works here as in the window. The result shown is the latest stored one
(:func:`micview.core.quality.load_quality`), so a ``micview quality`` run from the command line shows here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from micview.gui.controllers.analysis import DUPLICATE_TAG, EXCLUDE_TAG, AnalysisController, QualityRequest
from micview.gui.panels.quality_page import IssuePage
from micview.gui.panels.quality_rows import (
    Row,
    cluster_rows,
    duplicate_rows,
    mislabel_rows,
    outlier_rows,
    poor_rows,
    summary_text,
)
from micview.gui.session import Session
from micview.gui.widgets import compact_combo, wrapping_label
from micview.gui.workers import Job

if TYPE_CHECKING:
    from micview.core.quality import QualityResult

MAX_ROWS = 200  # rows per page (most severe first); the page says when there are more


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
        return mislabel_rows(r, self.name, tags, now)

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
