"""The Analysis side-panel tab: what the embeddings say about the whole dataset, drawn live.

Choose the model, the labels and a set of prompt groups (new, edit, import the seed scripts' JSON — saved in
the project), press **Analyse**: a job computes what is missing and the tab draws the figures of
:mod:`~micview.gui.panels.analysis_concept` and :mod:`~micview.gui.panels.analysis_sections` (the same arrays
``micview analyse`` writes as PNGs). Clicking a
point, a bar, a histogram bin or a matrix cell selects those images in the session, so the grid, the map and
the viewer show them. **Data quality…** opens the :class:`~micview.gui.panels.quality_view.QualityView`.

It receives the :class:`~micview.gui.session.Session` and acts through the
:class:`~micview.gui.controllers.analysis.AnalysisController`; the last result is this view's own (a new
project clears it). Made for the side panel's width: two-column buttons, text that wraps, plots that follow
the width. Plug in with :func:`register` (``micview.gui.side_panel._BUILTIN_PANELS``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFileDialog, QFormLayout, QGridLayout, QPushButton, QVBoxLayout, QWidget

from micview.gui.controllers.analysis import TASK_PROMPTS, AnalysisController, AnalysisRequest
from micview.gui.panels.analysis_concept import ConceptSection
from micview.gui.panels.analysis_plots import note_label
from micview.gui.panels.analysis_sections import Context, ImageSideSection, MatrixSection
from micview.gui.session import Session
from micview.gui.widgets import compact_combo, wrapping_label
from micview.gui.workers import Job

if TYPE_CHECKING:
    from micview.gui.panels.quality_view import QualityView
    from micview.ml.analysis import AnalysisResult

NO_TASK, NO_GROUPS = "(no labels)", "(no prompt groups)"
TASK_SET = "(the task's prompt set)"
INTRO = (
    "Analyse shows how the images sit between groups of prompts (CLIP-family models) and how your labels sit in "
    "the model's space (any model): similarity distributions, margins, similarity matrices, silhouettes. Click a "
    "point, a bar or a cell to select those images. Data quality… finds duplicates, likely label mistakes, "
    "outliers and poor images."
)


class AnalysisPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.ctl = AnalysisController(session)
        self.result: AnalysisResult | None = None
        self.job: Job | None = None
        self._generation = 0  # counts projects opened: results of an earlier one are dropped
        self.quality_view: QualityView | None = None
        self.model_box, self.task_box, self.groups_box = compact_combo(8), compact_combo(8), compact_combo(8)
        self.model_box.setToolTip("The model whose vectors are analysed (missing vectors are computed first)")
        self.task_box.setToolTip("The labels to compare with the embeddings and to order the matrix by")
        self.groups_box.setToolTip("Groups of prompts to compare the images with (CLIP-family models only)")
        self.new_button, self.edit_button = QPushButton("New groups…"), QPushButton("Edit…")
        self.import_button = QPushButton("Import JSON…")
        self.import_button.setToolTip("A prompt-group JSON file; the BiomedCLIP scripts' prompt_pairs layout works")
        self.run_button, self.quality_button = QPushButton("Analyse"), QPushButton("Data quality…")
        self.quality_button.setToolTip("Duplicates, likely label mistakes, outliers, poor images, clusters")
        self.hint = note_label()
        self.status = wrapping_label(INTRO)
        self.results = QVBoxLayout()
        self.results.setContentsMargins(0, 0, 0, 0)
        self.sections: list[QWidget] = []
        self._layout()
        self._connect()
        self.refresh()

    def _layout(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Model", self.model_box)
        form.addRow("Labels", self.task_box)
        form.addRow("Prompts", self.groups_box)
        buttons = QGridLayout()
        for k, w in enumerate((self.new_button, self.edit_button, self.import_button)):
            buttons.addWidget(w, 0, k)
        buttons.addWidget(self.run_button, 1, 0, 1, 2)
        buttons.addWidget(self.quality_button, 1, 2)
        root = QVBoxLayout(self)
        root.addLayout(form)
        root.addWidget(self.hint)
        root.addLayout(buttons)
        root.addWidget(self.status)
        root.addLayout(self.results)
        root.addStretch(1)

    def _connect(self) -> None:
        self.run_button.clicked.connect(self._on_run_clicked)
        self.quality_button.clicked.connect(self.show_quality)
        self.new_button.clicked.connect(lambda: self.edit_groups(new=True))
        self.edit_button.clicked.connect(lambda: self.edit_groups(new=False))
        self.import_button.clicked.connect(self._on_import_clicked)
        self.model_box.currentTextChanged.connect(lambda _t: self._update_hint())
        self.groups_box.currentIndexChanged.connect(lambda _i: self._update_hint())
        self.task_box.currentIndexChanged.connect(lambda _i: self._update_hint())
        s = self.session
        s.project_changed.connect(self._on_project_changed)
        s.tasks_changed.connect(self.refresh)
        s.labels_changed.connect(lambda _t: self._refresh_tasks())
        s.models_changed.connect(self.refresh)
        s.model_changed.connect(lambda _m: self.refresh())
        s.task.changed.connect(self._on_active_task_changed)

    # -- choices ------------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the models, tasks and saved prompt groups (keeping the current choices where they exist)."""
        keep = self.model_box.currentText()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        if self.session.project is not None:
            self.model_box.addItems(self._models())
        self.model_box.setCurrentText(keep if keep and self.model_box.findText(keep) >= 0 else self.session.model_id)
        self.model_box.blockSignals(False)
        self._refresh_tasks()
        self._refresh_groups()

    def _models(self) -> list[str]:
        from micview.gui.controllers.models import ModelsController

        return list(dict.fromkeys([*self.ctl.model_choices(), *ModelsController(self.session).offline_ids()]))

    def _refresh_tasks(self) -> None:
        keep = self.task_box.currentText() or self.session.task.name
        self.task_box.blockSignals(True)
        self.task_box.clear()
        self.task_box.addItem(NO_TASK, None)
        for task in self.ctl.label_tasks():
            self.task_box.addItem(task, task)
        index = self.task_box.findText(keep) if keep else -1
        self.task_box.setCurrentIndex(max(0, index))
        self.task_box.blockSignals(False)
        self._update_hint()

    def _refresh_groups(self, choose: str = "") -> None:
        keep = choose or self.groups_box.currentText()
        self.groups_box.blockSignals(True)
        self.groups_box.clear()
        self.groups_box.addItem(NO_GROUPS, None)
        self.groups_box.addItem(TASK_SET, TASK_PROMPTS)
        for name in self.ctl.group_names():
            self.groups_box.addItem(name, name)
        if not keep and self.session.project is not None:
            last = self.ctl.last_group_name()
            keep = last or (TASK_SET if self._has_text() else NO_GROUPS)
        self.groups_box.setCurrentIndex(max(0, self.groups_box.findText(keep)))
        self.groups_box.blockSignals(False)
        self._update_hint()

    def _on_active_task_changed(self, name: str) -> None:
        if name and self.task_box.findText(name) >= 0 and self.result is None:
            self.task_box.setCurrentText(name)

    def showEvent(self, event: QShowEvent) -> None:
        if not self.model_box.count():
            self.refresh()
        super().showEvent(event)

    def _has_text(self) -> bool:
        from micview.ml.analysis.defaults import has_text

        try:
            return has_text(self.model_box.currentText() or self.session.model_id)
        except Exception:  # an unknown id typed or stored: said when it runs
            return False

    def _update_hint(self) -> None:
        groups = self.groups_box.currentData()
        model = self.model_box.currentText()
        self.edit_button.setEnabled(groups not in (None, TASK_PROMPTS))
        text = ""
        if groups is not None and not self._has_text():
            text = (
                f"{model} has no text tower, so prompt groups cannot be compared with the images (add a CLIP-"
                "family model in Images ▸ Models…). The labels are still analysed."
            )
        elif groups == TASK_PROMPTS and self.task_box.currentData() is None:
            text = "The task's prompt set needs a task: choose the labels above."
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def request(self) -> AnalysisRequest:
        return AnalysisRequest(
            self.model_box.currentText().strip() or self.session.model_id,
            self.task_box.currentData(),
            self.groups_box.currentData(),
        )

    # -- prompt groups -----------------------------------------------------------------------------------------------
    def edit_groups(self, new: bool) -> None:
        from micview.gui.panels.prompt_groups_dialog import PromptGroupsDialog

        name = self.groups_box.currentData()
        current = None if new or name in (None, TASK_PROMPTS) else self.ctl.groups(str(name))
        dialog = PromptGroupsDialog(self, current)
        if dialog.exec() and (groups := dialog.groups()) is not None and self.ctl.save_groups(groups):
            self._refresh_groups(groups.name)
            self.status.setText(f"Prompt groups “{groups.name}” saved in the project. Analyse to compare them.")

    def _on_import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import prompt groups", "", "Prompt groups (*.json);;All files (*)")
        if path:
            self.import_groups(path)

    def import_groups(self, path: str) -> None:
        from pathlib import Path

        groups = self.ctl.import_groups(Path(path))
        if groups is not None:
            self._refresh_groups(groups.name)
            kind = f"{len(groups.pair_ids)} prompt pairs" if groups.paired else "groups"
            self.status.setText(f"Imported “{groups.name}” ({kind}: {', '.join(groups.names)}) into the project.")

    # -- running -----------------------------------------------------------------------------------------------------
    def _on_run_clicked(self) -> None:
        if self.job is not None:
            self.job.cancel()
            return
        project = self.session.project
        if project is None or not len(self.session.catalog):
            self.status.setText(
                "Open a project first." if project is None else "Add images first (File ▸ Add folder…)."
            )
            return
        if project.read_only:
            self.status.setText(
                "This project is open read-only: an analysis is stored with the project, so it cannot "
                "run here. Save a copy (File ▸ Save a copy…) and analyse the copy."
            )
            return
        gen = self._generation  # what arrives for a project closed meanwhile is dropped

        def current(act: Callable[..., object]) -> Callable[..., object]:
            return lambda *args: act(*args) if gen == self._generation else None

        self.job = self.ctl.analyse(
            self.request(), current(self.show_result), current(self._on_failed), current(self._on_cancelled)
        )
        if self.job is not None:
            self.job.yielded.connect(current(lambda p: self.status.setText(f"{p.message}…")))
            self.run_button.setText("Cancel")
            self.status.setText("Analysing…")

    def _finished(self, text: str) -> None:
        self.job = None
        self.run_button.setText("Analyse")
        self.status.setText(text)

    def _on_failed(self, message: str, details: str) -> None:
        self._finished(f"Not analysed: {message}")
        if details:  # a bug: the window shows it with its details
            self.session.errors.report("Analysis failed", message, details)

    def _on_cancelled(self) -> None:
        self._finished("Cancelled.")

    def show_result(self, result: AnalysisResult) -> None:
        """Draw ``result`` (replacing what was shown)."""
        self.result = result
        self.clear_result()
        labelled = sum(lab is not None for lab in result.labels)
        parts = [f"{len(result.image_ids):,} images, {result.model_id}"]
        if result.task:
            parts.append(f"{labelled:,} labelled ({result.task})")
        self._finished(", ".join(parts) + ". " + " ".join(result.notes))
        ctx = Context(self._select, self.session.catalog.name, self.session.thumbnails.get)
        sections: list[QWidget] = []
        if result.concept is not None:
            sections.append(ConceptSection(result, ctx))
        if result.image_side is not None:
            sections.append(ImageSideSection(result, ctx))
        sections.append(MatrixSection(result, ctx))
        for section in sections:
            self.results.addWidget(section)
        self.sections = sections

    def clear_result(self) -> None:
        for section in self.sections:
            self.results.removeWidget(section)
            section.deleteLater()
        self.sections = []

    def section(self, kind: type[Any]) -> Any:
        """The shown section of ``kind`` (tests, scripts), or ``None``."""
        return next((s for s in self.sections if isinstance(s, kind)), None)

    def _select(self, ids: np.ndarray, what: str) -> None:
        ids = np.asarray(ids, np.int64)
        if not len(ids):
            self.session.status(f"No image: {what}.", 6000)
            return
        self.ctl.select(ids.tolist(), source=self)
        self.session.status(f"Selected {what}.", 8000)

    def _on_project_changed(self, _project: object) -> None:
        self._generation += 1
        if self.job is not None:
            self.job.cancel()
        self.job = None
        self.run_button.setText("Analyse")
        self.result = None
        self.clear_result()
        self.status.setText(INTRO)
        self.refresh()

    # -- quality ------------------------------------------------------------------------------------------------
    def show_quality(self) -> QualityView:
        """Open (or raise) the Quality view, with this tab's model and labels as its defaults."""
        from micview.gui.panels.quality_view import QualityView

        if self.quality_view is None:
            self.quality_view = QualityView(self.session, self.window())
        view = self.quality_view
        view.preset(self.model_box.currentText(), self.task_box.currentData())
        view.show()
        view.raise_()
        view.activateWindow()
        return view


def register() -> None:
    """Put this panel in the side panel's Analysis tab (call before the main window is created)."""
    from micview.gui.side_panel import register_panel

    register_panel("Analysis", AnalysisPanel)
