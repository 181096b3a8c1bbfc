"""The VQA side-panel tab: choose a vision-language model, ask about the current image (answer streamed),
describe the selection, and evaluate multiple choice over a label task's labelled images.

Self-contained: it needs a ``context`` with ``project`` (the open :class:`Project` or ``None``), ``selection``
(ids + current) and ``jobs`` (:class:`~micview.gui.workers.JobManager`). Every model call runs as a job on the
one-thread ``model`` pool; each job opens its own ``Project`` on the worker thread (SQLite connections belong
to one thread). The loaded model is kept here and used only from that pool thread.
Plug in with ``register_panel("VQA", VqaPanel)`` (see :func:`register`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
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


class VqaPanel(QWidget):
    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = context
        self.vlm: Any = None
        self._job: Any = None
        self.model_box = QComboBox(editable=True)
        self.model_box.setToolTip("A model folder, an id from `micview models add`, or a Hugging Face repo id")
        self.load_button, self.unload_button = QPushButton("Load"), QPushButton("Unload")
        self.question = QPlainTextEdit(placeholderText="Ask about the current image…")
        self.ask_button, self.stop_button = QPushButton("Ask"), QPushButton("Stop")
        self.describe_button = QPushButton("Describe selection")
        self.answer = QPlainTextEdit(readOnly=True)
        self.task_box, self.shots = QComboBox(), QSpinBox(maximum=8)
        self.eval_button = QPushButton("Evaluate multiple choice")
        self.metrics = QLabel("")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["image", "truth", "prediction", "p"])
        self.status = QLabel("No model loaded.")
        self._layout()
        self._connect()
        self._fill_models()
        self._on_busy_changed()

    # -- layout and wiring ---------------------------------------------------------------------------------
    def _layout(self) -> None:
        model_row = QHBoxLayout()
        for w in (self.model_box, self.load_button, self.unload_button):
            model_row.addWidget(w)
        ask_row = QHBoxLayout()
        for w in (self.ask_button, self.stop_button, self.describe_button):
            ask_row.addWidget(w)
        mcq = QFormLayout()
        mcq.addRow("Task (options = its classes)", self.task_box)
        mcq.addRow("Examples per class", self.shots)
        root = QVBoxLayout(self)
        for item in (model_row, self.status, self.question, ask_row, self.answer, mcq, self.eval_button,
                     self.metrics, self.table):  # fmt: skip
            root.addLayout(item) if isinstance(item, QHBoxLayout | QFormLayout) else root.addWidget(item)
        self.question.setMaximumHeight(70)

    def _connect(self) -> None:
        self.load_button.clicked.connect(self._on_load_clicked)
        self.unload_button.clicked.connect(self._on_unload_clicked)
        self.ask_button.clicked.connect(self._on_ask_clicked)
        self.stop_button.clicked.connect(lambda: self._job and self._job.cancel())
        self.describe_button.clicked.connect(self._on_describe_clicked)
        self.eval_button.clicked.connect(self._on_eval_clicked)

    def _fill_models(self) -> None:
        from micview.ml.vlm.folder import SUGGESTED

        self.model_box.addItems(list(SUGGESTED))

    def refresh(self) -> None:
        """The side panel calls this when a project opens."""
        self.refresh_tasks()

    def refresh_tasks(self) -> None:
        """Call when a project is opened or its tasks change."""
        project = self._ctx.project
        self.task_box.clear()
        if project is not None:
            self.task_box.addItems(project.labels.task_names())

    def showEvent(self, event: Any) -> None:
        self.refresh_tasks()
        super().showEvent(event)

    def _on_busy_changed(self) -> None:
        busy, loaded = self._job is not None, self.vlm is not None
        self.load_button.setEnabled(not busy)
        self.unload_button.setEnabled(loaded and not busy)
        for b in (self.ask_button, self.describe_button, self.eval_button):
            b.setEnabled(loaded and not busy)
        self.stop_button.setEnabled(busy)

    # -- jobs --------------------------------------------------------------------------------------------
    def _start(self, title: str, factory: Any, on_result: Any, on_progress: Any = None) -> None:
        job = self._ctx.jobs.start(title, factory, pool="model")
        if on_progress is not None:
            job.yielded.connect(on_progress)
        job.returned.connect(on_result)
        job.errored.connect(lambda message, _tb: self.status.setText(message))
        job.finished.connect(self._on_job_finished)
        self._job = job
        self._on_busy_changed()

    def _on_job_finished(self) -> None:
        self._job = None
        self._on_busy_changed()

    def _project_path(self) -> Path | None:
        project = self._ctx.project
        if project is None:
            self.status.setText("Open a project first.")
        return None if project is None else Path(project.path)

    def _on_load_clicked(self) -> None:
        name = self.model_box.currentText().strip()

        def task() -> Task[Any]:
            from micview.ml.vlm import load_vlm

            yield Progress(0, 0, f"Loading {name}")
            return load_vlm(name)

        self.status.setText(f"Loading {name}…")
        self._start(f"Load {name}", task, self._on_model_loaded)

    def _on_model_loaded(self, vlm: Any) -> None:
        self.vlm = vlm
        self.status.setText(f"{vlm.id} on {vlm.device} ({vlm.precision}). " + " ".join(vlm.notes))
        self._on_busy_changed()

    def _on_unload_clicked(self) -> None:
        vlm, self.vlm = self.vlm, None
        self._start("Unload model", lambda: _unload(vlm), lambda _r: self.status.setText("No model loaded."))

    def _on_ask_clicked(self) -> None:
        path, current, question = self._project_path(), self._ctx.selection.current, self.question.toPlainText()
        if path is None or current is None or not question.strip():
            self.status.setText(self.status.text() if path is None else "Choose an image and type a question.")
            return
        self.answer.clear()
        self._start("Ask", lambda: _with_project(path, "ask", [current], question, self.vlm), self._on_answered,
                    self._on_piece)  # fmt: skip

    def _on_piece(self, step: Progress) -> None:
        text = getattr(step, "text", "")
        if text:
            self.answer.insertPlainText(text)

    def _on_answered(self, answers: list[Any]) -> None:
        if answers:
            self.status.setText(f"Answered in {answers[0].seconds:.1f} s; saved in the project.")

    def _on_describe_clicked(self) -> None:
        path, ids = self._project_path(), list(self._ctx.selection.ids)
        if path is None or not ids:
            return
        self.answer.clear()
        self._start("Describe", lambda: _with_project(path, "describe", ids, self.vlm), self._on_described)

    def _on_described(self, answers: list[Any]) -> None:
        self.answer.setPlainText("\n\n".join(a.text for a in answers))

    def _on_eval_clicked(self) -> None:
        path, task = self._project_path(), self.task_box.currentText()
        if path is None or not task:
            return
        self._start("Multiple choice", lambda: _evaluate(path, task, self.shots.value(), self.vlm), self._on_evaluated)

    def _on_evaluated(self, result: tuple[Any, list[tuple[str, str, str, float]]]) -> None:
        report, rows = result
        m = report.metrics
        self.metrics.setText(f"accuracy {m.accuracy:.1%} · balanced {m.balanced_accuracy:.1%} · macro F1 "
                             f"{m.macro_f1:.3f} · {report.seconds_per_image:.2f} s/image")  # fmt: skip
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(f"{value:.3f}" if isinstance(value, float) else value))


def _unload(vlm: Any) -> Task[None]:
    yield Progress(0, 0, "Unloading")
    if vlm is not None:
        vlm.unload()


def _with_project(path: Path, what: str, *args: Any) -> Task[Any]:
    """Run an ml.vlm task with a Project opened on this (worker) thread."""
    from micview.ml import vlm as api

    with Project.open(path) as project:
        return (yield from getattr(api, what)(project, *args))


def _evaluate(path: Path, task: str, shots: int, vlm: Any) -> Task[Any]:
    from micview.ml.vlm import EvalSettings, evaluate_mcq, project_items

    with Project.open(path) as project:
        report = yield from evaluate_mcq(project, project_items(project, task), vlm, EvalSettings(shots=shots))
        rows = [(project.images.get(a.image_id).name, a.truth or "", a.answer, max(a.scores or [0.0]))
                for a in project.answers.for_run(report.run_id)]  # fmt: skip
    return report, rows


def register() -> None:
    """Put this panel in the side panel's VQA tab (call before the main window is created)."""
    from micview.gui.side_panel import register_panel

    register_panel("VQA", VqaPanel)
