"""The VQA side-panel tab: choose a vision-language model, ask about the current image (answer streamed),
describe the selection, and evaluate multiple choice over a label task's labelled images.

It receives the :class:`~micview.gui.session.Session`. Every model call is a job on the one-thread ``model``
pool; each opens its own ``Project`` on the worker thread. The model itself lives in the shared model cache
(:mod:`micview.ml.model_cache`), so Unload frees it for everyone and nothing here holds a second copy. Made to
fit the side panel's default width: buttons in a grid, text that wraps, a table that scrolls.
Plug in with ``register_panel("VQA", VqaPanel)`` (see :func:`register`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGridLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.core.store import Project
from micview.core.tasks import Progress, Task
from micview.gui.session import Session
from micview.gui.widgets import compact_combo, wrapping_label
from micview.gui.workers import Job


class VqaPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.loaded = ""  # the model id loaded through this tab (the model itself is in the shared cache)
        self._job: Job | None = None
        self.model_box = compact_combo(10, editable=True)
        self.model_box.setToolTip("A model folder, an id from `micview models add`, or a Hugging Face repo id")
        self.load_button, self.unload_button = QPushButton("Load"), QPushButton("Unload")
        self.question = QPlainTextEdit(placeholderText="Ask about the current image…")
        self.question.setMaximumHeight(70)
        self.ask_button, self.stop_button = QPushButton("Ask"), QPushButton("Stop")
        self.describe_button = QPushButton("Describe selection")
        self.answer = QPlainTextEdit(readOnly=True)
        self.answer.setMinimumHeight(80)
        self.task_box, self.shots = compact_combo(8), QSpinBox(maximum=8)
        self.eval_button = QPushButton("Evaluate multiple choice")
        self.metrics = wrapping_label("")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["image", "truth", "prediction", "p"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setMinimumHeight(120)
        self.status = wrapping_label("No model loaded.")
        self._layout()
        self._connect()
        self._fill_models()
        self._on_busy_changed()

    # -- layout and wiring ---------------------------------------------------------------------------------
    def _layout(self) -> None:
        model = QGridLayout()
        model.addWidget(self.model_box, 0, 0, 1, 2)
        model.addWidget(self.load_button, 1, 0)
        model.addWidget(self.unload_button, 1, 1)
        ask = QGridLayout()
        ask.addWidget(self.ask_button, 0, 0)
        ask.addWidget(self.stop_button, 0, 1)
        ask.addWidget(self.describe_button, 1, 0, 1, 2)
        mcq = QFormLayout()
        mcq.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        mcq.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        mcq.addRow("Task (its classes are the options)", self.task_box)
        mcq.addRow("Examples per class", self.shots)
        root = QVBoxLayout(self)
        root.addLayout(model)
        root.addWidget(self.status)
        root.addWidget(self.question)
        root.addLayout(ask)
        root.addWidget(self.answer)
        root.addWidget(wrapping_label("Multiple choice over labelled images", "color: #a0a6ad; padding-top: 6px;"))
        root.addLayout(mcq)
        root.addWidget(self.eval_button)
        root.addWidget(self.metrics)
        root.addWidget(self.table)
        root.addStretch(1)

    def _connect(self) -> None:
        self.load_button.clicked.connect(self._on_load_clicked)
        self.unload_button.clicked.connect(self._on_unload_clicked)
        self.ask_button.clicked.connect(self._on_ask_clicked)
        self.stop_button.clicked.connect(lambda: self._job is not None and self._job.cancel())
        self.describe_button.clicked.connect(self._on_describe_clicked)
        self.eval_button.clicked.connect(self._on_eval_clicked)
        self.session.project_changed.connect(lambda _p: self.refresh_tasks())
        self.session.tasks_changed.connect(self.refresh_tasks)

    def _fill_models(self) -> None:
        from micview.ml.vlm.folder import SUGGESTED

        self.model_box.addItems(list(SUGGESTED))

    def refresh_tasks(self) -> None:
        """The label tasks whose classes can be the options (a project opened, a task defined)."""
        project = self.session.project
        keep = self.task_box.currentText()
        self.task_box.clear()
        if project is not None:
            self.task_box.addItems(project.labels.task_names())
            if keep:
                self.task_box.setCurrentText(keep)

    def showEvent(self, event: QShowEvent) -> None:
        if not self.task_box.count():
            self.refresh_tasks()
        super().showEvent(event)

    def _on_busy_changed(self) -> None:
        busy, loaded = self._job is not None, bool(self.loaded)
        self.load_button.setEnabled(not busy)
        self.unload_button.setEnabled(loaded and not busy)
        for b in (self.ask_button, self.describe_button, self.eval_button):
            b.setEnabled(loaded and not busy)
        self.stop_button.setEnabled(busy)

    # -- jobs --------------------------------------------------------------------------------------------
    def _start(self, title: str, factory: Callable[[], Task[Any]], on_result: Callable[[Any], None],
               on_progress: Callable[[Progress], None] | None = None) -> None:  # fmt: skip
        job = self.session.jobs.start(
            title, factory, pool="model", on_result=on_result,
            on_error=lambda message, _tb: self.status.setText(message),
            on_cancel=lambda: self.status.setText("Stopped."),
        )  # fmt: skip
        if on_progress is not None:
            job.yielded.connect(on_progress)
        job.finished.connect(self._on_job_finished)
        self._job = job
        self._on_busy_changed()

    def _on_job_finished(self) -> None:
        self._job = None
        self._on_busy_changed()

    def _project_path(self) -> Path | None:
        """The project the answers are stored in; None (and why, in the status line) when there is none to write."""
        from micview.gui.controllers.safety import read_only_message

        project = self.session.project
        if project is None:
            self.status.setText("Open a project first.")
        elif project.read_only:  # answers are stored with their recipe: refused before the model runs
            self.status.setText(read_only_message(project, "Asking the model"))
            return None
        return None if project is None else Path(project.path)

    def _on_load_clicked(self) -> None:
        name = self.model_box.currentText().strip()
        if not name:
            self.status.setText("Choose a model, or type the folder of one.")
            return
        self.status.setText(f"Loading {name}…")
        self._start(f"Load {name}", lambda: _load(name), lambda vlm: self._on_model_loaded(name, vlm))

    def _on_model_loaded(self, name: str, vlm: Any) -> None:
        self.loaded = name
        self.status.setText(f"{vlm.id} on {vlm.device} ({vlm.precision}). " + " ".join(vlm.notes))
        self._on_busy_changed()

    def _on_unload_clicked(self) -> None:
        self.loaded = ""
        self._start("Unload model", _unload, lambda _r: self.status.setText("No model loaded."))

    def _on_ask_clicked(self) -> None:
        path, current, question = self._project_path(), self.session.selection.current, self.question.toPlainText()
        if path is None or current is None or not question.strip():
            self.status.setText(self.status.text() if path is None else "Choose an image and type a question.")
            return
        self.answer.clear()
        name = self.loaded
        self._start("Ask", lambda: _with_project(path, name, "ask", [current], question), self._on_answered,
                    self._on_piece)  # fmt: skip

    def _on_piece(self, step: Progress) -> None:
        text = getattr(step, "text", "")
        if text:
            self.answer.insertPlainText(text)

    def _on_answered(self, answers: list[Any]) -> None:
        if answers:
            self.status.setText(f"Answered in {answers[0].seconds:.1f} s; saved in the project.")

    def _on_describe_clicked(self) -> None:
        path, ids = self._project_path(), list(self.session.selection.ids)
        if path is None or not ids:
            self.status.setText(self.status.text() if path is None else "Select the images to describe.")
            return
        self.answer.clear()
        name = self.loaded
        self._start("Describe", lambda: _with_project(path, name, "describe", ids), self._on_described)

    def _on_described(self, answers: list[Any]) -> None:
        self.answer.setPlainText("\n\n".join(a.text for a in answers))

    def _on_eval_clicked(self) -> None:
        path, task, name = self._project_path(), self.task_box.currentText(), self.loaded
        if path is None or not task:
            return
        shots = self.shots.value()
        self._start("Multiple choice", lambda: _evaluate(path, task, shots, name), self._on_evaluated)

    def _on_evaluated(self, result: tuple[Any, list[tuple[str, str, str, float]]]) -> None:
        report, rows = result
        m = report.metrics
        self.metrics.setText(f"accuracy {m.accuracy:.1%} · balanced {m.balanced_accuracy:.1%} · macro F1 "
                             f"{m.macro_f1:.3f} · {report.seconds_per_image:.2f} s/image")  # fmt: skip
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                text = f"{value:.3f}" if isinstance(value, float) else value
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)


# -- jobs (the model pool's thread) ---------------------------------------------------------------------------
def _vlm(name: str) -> Any:
    from micview.ml.model_cache import shared

    return shared().vlm(name)


def _load(name: str) -> Task[Any]:
    yield Progress(0, 0, f"Loading {name}")
    return _vlm(name)


def _unload() -> Task[None]:
    from micview.ml.model_cache import shared

    yield Progress(0, 0, "Unloading")
    shared().unload("vlm")


def _with_project(path: Path, name: str, what: str, *args: Any) -> Task[Any]:
    """Run an ml.vlm task with a Project opened on this (worker) thread."""
    from micview.ml import vlm as api

    model = _vlm(name)
    with Project.open(path) as project:
        return (yield from getattr(api, what)(project, *args, model))


def _evaluate(path: Path, task: str, shots: int, name: str) -> Task[Any]:
    from micview.ml.vlm import EvalSettings, evaluate_mcq, project_items

    model = _vlm(name)
    with Project.open(path) as project:
        report = yield from evaluate_mcq(project, project_items(project, task), model, EvalSettings(shots=shots))
        rows = [(project.images.get(a.image_id).name, a.truth or "", a.answer, max(a.scores or [0.0]))
                for a in project.answers.for_run(report.run_id)]  # fmt: skip
    return report, rows


def register() -> None:
    """Put this panel in the side panel's VQA tab (call before the main window is created)."""
    from micview.gui.side_panel import register_panel

    register_panel("VQA", VqaPanel)
