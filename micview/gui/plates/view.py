"""The Plates tab: plate and naming-pattern choice, the well grid, a well's drops over time, the review queue,
keyboard scoring, MARCO auto-scoring and per-plate exports.

It receives the :class:`~micview.gui.session.Session` and acts through the
:class:`~micview.gui.controllers.plates.PlatesController` (scores, jobs, exports) and the
:class:`~micview.gui.controllers.viewer.ViewerController`. The tab re-reads the plate when shown after a change
(a new project, an import, a score); while hidden it only marks itself stale, so labelling in the browser
costs nothing here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.core.errors import MicviewError
from micview.core.plate_export import TASK
from micview.core.plates import PATTERN_META, PRESETS, Plate, index_plates, project_plates
from micview.gui.controllers.plates import PlatesController
from micview.gui.controllers.viewer import ViewerController
from micview.gui.plates import scoring
from micview.gui.plates.drops import DropStrip
from micview.gui.plates.grid import PlateGrid
from micview.gui.plates.model import WellState, task_classes, well_states
from micview.gui.plates.review import ReviewPanel
from micview.gui.session import Session
from micview.gui.widgets import compact_combo
from micview.gui.workers import Job


def best_preset(project: Any) -> str:
    """The preset naming scheme that parses the most of ``project``'s images (``generic`` on a tie)."""
    items = [(r.id, r.path) for r in project.images.all(status="ok")]
    counts = {name: len(items) - len(index_plates(items, name).unparsed) for name in PRESETS}
    return max(PRESETS, key=lambda name: (counts[name], name == "generic"))


class PlateView(QWidget):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.ctl = PlatesController(session)
        self.viewer = ViewerController(session)
        self.plates: dict[str, Plate] = {}
        self.states: dict[str, WellState] = {}
        self.classes: list[str] = []
        self.current: str | None = None
        self.job: Job | None = None
        self.keystrokes = 0
        self._job_message = ""
        self.score_factory = scoring.score_plate_task  # tests swap in a fake task; the job system is the same
        self.recalibrate_model = "marco"  # whose features "Learn my scores" trains on
        self._stale = True
        self._build()
        self._connect()

    # -- construction -----------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.plate_combo = compact_combo(10)
        self.pattern_combo = compact_combo(9, editable=True)
        self.pattern_combo.addItems(list(PRESETS))
        self.pattern_combo.setCurrentText("generic")
        self.pattern_combo.setToolTip("How wells are read from file names: a preset, or your own regular expression")
        self.scoring_button = QPushButton("Keyboard scoring", checkable=True)
        self.scoring_button.setToolTip("Keys 1–9 score the current well and move on; 0/Backspace clears; Ctrl+Z")
        self.marco_button = QPushButton("Score plate with MARCO")
        self.learn_button = QPushButton("Learn my scores")
        self.learn_button.setToolTip(
            "Train on the wells you scored (on MARCO's features) and re-predict every drop in your own scale"
        )
        self.progress = QProgressBar(maximumWidth=220, textVisible=True)
        self.cancel_button = QPushButton("Cancel")
        self.csv_button = QPushButton("Export CSV…")
        self.png_button = QPushButton("Export map PNG…")
        self.keys_hint = QLabel()
        self.keys_hint.setStyleSheet("color: #c9cdd2; padding-left: 8px;")
        self.keys_hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()  # what to look at and how to score it
        bar.setContentsMargins(6, 4, 6, 0)
        for w in (QLabel("Plate"), self.plate_combo, QLabel("Names"), self.pattern_combo, self.scoring_button):
            bar.addWidget(w)
        bar.addWidget(self.keys_hint, 1)
        jobs = QHBoxLayout()  # what runs on it and what comes out of it
        jobs.setContentsMargins(6, 0, 6, 2)
        for w in (self.marco_button, self.learn_button, self.progress, self.cancel_button):
            jobs.addWidget(w)
        jobs.addStretch(1)
        for w in (self.csv_button, self.png_button):
            jobs.addWidget(w)
        self.progress.hide()
        self.cancel_button.hide()
        self.grid = PlateGrid()
        self.drops = DropStrip(self._thumbnail)
        self.review = ReviewPanel()
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #8a9099; padding: 2px 8px;")
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.grid)
        left.addWidget(self.drops)
        left.setSizes([660, 240])
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.review)
        split.setSizes([1250, 330])
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(bar)
        col.addLayout(jobs)
        col.addWidget(split, 1)
        col.addWidget(self.summary)

    def _connect(self) -> None:
        self.plate_combo.currentTextChanged.connect(self._on_plate_changed)
        self.pattern_combo.activated.connect(lambda _i: self.reload())
        self.pattern_combo.lineEdit().editingFinished.connect(self.reload)
        self.scoring_button.toggled.connect(self.set_scoring)
        self.marco_button.clicked.connect(self.score_with_marco)
        self.learn_button.clicked.connect(self.learn_scores)
        self.cancel_button.clicked.connect(self.cancel_scoring)
        self.csv_button.clicked.connect(self._ask_csv)
        self.png_button.clicked.connect(self._ask_png)
        self.grid.well_clicked.connect(self.go_to)
        self.grid.well_opened.connect(self._open_well)
        self.grid.score_key.connect(lambda k: self.score_current(k - 1))
        self.grid.clear_key.connect(lambda: self.score_current(None))
        self.grid.move.connect(lambda step: self.go_to(scoring.next_well(self.review.wells, self.current, step)))
        self.drops.opened.connect(self.viewer.open)
        self.review.well_chosen.connect(self.go_to)
        self.review.queue_changed.connect(self._on_queue_changed)
        self.session.labels_changed.connect(self._on_labels_changed)
        self.session.project_changed.connect(lambda _p: self.mark_stale())
        self.session.catalog.changed.connect(self.mark_stale)

    # -- loading ------------------------------------------------------------------------------------------------
    def mark_stale(self) -> None:
        """The project or its images changed: re-read when next shown (now, if shown)."""
        self._stale = True
        if self.isVisible():
            self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def pattern(self) -> str:
        return self.pattern_combo.currentText().strip() or "generic"

    def reload(self) -> None:
        """Re-index the project's plates with the chosen pattern and show the chosen plate."""
        self._stale = False
        project = self.session.project
        if project is None:
            self.plates = {}
        else:
            self._init_pattern(project)
            try:
                self.plates = project_plates(project, self.pattern()).plates
            except MicviewError as exc:
                self.session.errors.report("Cannot read plates", str(exc))
                self.plates = {}
        keep = self.plate_combo.currentText()
        self.plate_combo.blockSignals(True)
        self.plate_combo.clear()
        self.plate_combo.addItems(list(self.plates))
        self.plate_combo.setCurrentText(keep if keep in self.plates else next(iter(self.plates), ""))
        self.plate_combo.blockSignals(False)
        self._on_plate_changed(self.plate_combo.currentText())

    def _init_pattern(self, project: Any) -> None:
        """On a new project: its saved pattern, else the preset that places the most of its images."""
        if self.pattern_combo.property("project") == str(project.path):
            return
        self.pattern_combo.setProperty("project", str(project.path))
        saved = project.get_meta(PATTERN_META) or best_preset(project)
        if self.pattern_combo.findText(saved) < 0:
            self.pattern_combo.addItem(saved)
        self.pattern_combo.setCurrentText(saved)

    @property
    def plate(self) -> Plate | None:
        return self.plates.get(self.plate_combo.currentText())

    def _on_plate_changed(self, _name: str) -> None:
        self.current = None
        self._refresh(rebuild=True)
        self.go_to(self.review.wells[0] if self.review.wells else None)

    def _refresh(self, *, rebuild: bool = False) -> None:
        plate, project = self.plate, self.session.project
        self.states = well_states(project, plate) if plate and project else {}
        self.classes = task_classes(project) if project else []
        self.grid.set_plate(plate.layout if plate else 96, self.states, self.classes)
        self.review.set_states(self.states, self.classes, rebuild=rebuild)
        self.drops.show_well(self.states.get(self.current or ""), plate.name if plate else "")
        for w in (self.marco_button, self.csv_button, self.png_button, self.scoring_button):
            w.setEnabled(plate is not None)
        self._show_summary()

    def _show_summary(self) -> None:
        plate = self.plate
        if plate is None:
            self.summary.setText("No plates: file names do not match the naming pattern (choose another above).")
            return
        times = plate.times
        self.summary.setText(f"Plate {plate.name}: {plate.layout} wells, {len(self.states)} imaged, "
                             f"{len(plate.missing_wells())} without images · {len(plate.drops)} drop images · "
                             f"{len(times)} time point{'s' * (len(times) != 1)}")  # fmt: skip

    def _on_labels_changed(self, task: str) -> None:
        if task != TASK:
            return
        if self.isVisible():
            self._refresh()
        else:
            self._stale = True

    def _on_queue_changed(self) -> None:
        flt = self.review.filter_combo.currentIndex()
        self.grid.set_highlighted(set(self.review.wells) if flt else None)
        if self.current not in self.review.wells:
            self.go_to(self.review.wells[0] if self.review.wells else None)

    # -- navigation and scoring ---------------------------------------------------------------------------------
    def go_to(self, well: str | None) -> None:
        self.current = well
        self.grid.set_current(well)
        self.review.set_current(well)
        plate = self.plate
        self.drops.show_well(self.states.get(well or ""), plate.name if plate else "")

    def set_scoring(self, on: bool) -> None:
        self.grid.scoring = on
        self.scoring_button.setChecked(on)
        keys = " · ".join(f"<b>{i + 1}</b> {c}" for i, c in enumerate(self.classes))
        self.keys_hint.setText(f"{keys} · <b>0</b> removes the score · <b>Ctrl+Z</b> undo" if on else "")
        if on:
            self.keystrokes = 0
            self.grid.setFocus()
            if self.current is None and self.review.wells:
                self.go_to(self.review.wells[0])

    def score_current(self, k: int | None) -> bool:
        """Score the current well with class ``k`` (0-based; None clears) and move on to the next in the queue."""
        state = self.states.get(self.current or "")
        if state is None or (k is not None and not 0 <= k < len(self.classes)):
            return False
        self.keystrokes += 1
        label = self.classes[k] if k is not None else None
        if not self.ctl.score_well(state.well, scoring.scoring_ids(state), label, self.go_to):
            return False  # a read-only project: the controller said why; stay on this well
        self.go_to(scoring.next_well(self.review.wells, state.well))
        return True

    def _open_well(self, well: str) -> None:
        state = self.states.get(well)
        if state is not None and state.latest:
            self.viewer.open(state.latest[0].drop.image_id)

    def _thumbnail(self, image_id: int) -> QPixmap | None:
        return self.session.thumbnails.get(image_id)

    # -- MARCO and exports ----------------------------------------------------------------------------------------
    def score_with_marco(self) -> Job | None:
        """Start auto-scoring the plate on the model pool; a clear message when MARCO is not installed."""
        plate, project = self.plate, self.session.project
        if plate is None or project is None or (self.job is not None and not self.job.done):
            return None
        if self.score_factory is scoring.score_plate_task and not scoring.marco_available():
            self.session.errors.report("MARCO is not installed", scoring.MARCO_MISSING)
            return None
        job = self.ctl.score_with_marco(plate.name, self.pattern(), self.score_factory, self._on_scored)
        return self._watch(job) if job is not None else None

    def learn_scores(self) -> Job | None:
        """Few-shot recalibration on the user's scores (the classify machinery on MARCO features)."""
        project = self.session.project
        if project is None or (self.job is not None and not self.job.done):
            return None
        if self.recalibrate_model == "marco" and not scoring.marco_available():
            self.session.errors.report("MARCO is not installed", scoring.MARCO_MISSING)
            return None
        job = self.ctl.learn_scores(self.recalibrate_model, self._on_learnt)
        return self._watch(job) if job is not None else None

    def _on_learnt(self, result: Any) -> None:
        self._job_message = scoring.recalibrate_text(result)

    def _watch(self, job: Job) -> Job:
        """Show the job's progress and Cancel here while it runs."""
        self.job = job
        self.job.yielded.connect(self._on_progress)
        self.job.finished.connect(self._on_job_finished)
        self.progress.setRange(0, 0)
        for w in (self.progress, self.cancel_button):
            w.show()
        self.marco_button.setEnabled(False)
        self.learn_button.setEnabled(False)
        return self.job

    def _on_progress(self, p: Any) -> None:
        self.progress.setRange(0, max(p.total, 0))
        self.progress.setValue(p.done)
        self.progress.setFormat(f"{p.done}/{p.total}" if p.total else "starting…")

    def cancel_scoring(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_scored(self, summary: Any) -> None:
        self._job_message = scoring.summary_text(summary)

    def _on_job_finished(self) -> None:
        for w in (self.progress, self.cancel_button):
            w.hide()
        self.mark_stale()  # new predictions: recolour the grid
        self.marco_button.setEnabled(self.plate is not None)
        self.learn_button.setEnabled(True)
        if self.job is not None and self.job.state == "cancelled":
            self._job_message = "Scoring cancelled; the drops scored so far are kept."
        if self._job_message:
            self.summary.setText(self._job_message)
        self._job_message = ""

    def export_csv(self, path: str | Path) -> int:
        return self.ctl.export_csv(self.plate_combo.currentText(), path, self.pattern())

    def export_png(self, path: str | Path) -> Path:
        return self.ctl.export_png(self.plate_combo.currentText(), path, self.pattern())

    def _ask_csv(self) -> None:
        self._ask("CSV files (*.csv)", ".csv", self.export_csv)

    def _ask_png(self) -> None:
        self._ask("PNG images (*.png)", ".png", self.export_png)

    def _ask(self, kind: str, suffix: str, write: Any) -> None:
        name = f"{self.plate_combo.currentText()}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self, "Export plate", name, kind)
        if not path:
            return
        try:
            write(path)
        except (MicviewError, OSError) as exc:
            self.session.errors.report("Export failed", str(exc))
            return
        self.summary.setText(f"Wrote {path}")
