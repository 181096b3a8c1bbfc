"""The Classify side-panel tab: choose a task and a model, run, read the scores of the current image, accept
predictions as labels, review what to label next, and see the cross-validated confusion matrix.

Self-contained: it needs a ``context`` with ``project``, ``selection``, ``jobs`` and ``labels`` (the main
window). Runs and evaluations are jobs on the one-thread ``model`` pool, each opening its own ``Project`` on
the worker thread. With **Live** on, every labelling action retrains a :class:`LiveClassifier` in a quiet job
(well under a second) and refreshes the scores and suggestions *in memory only*; **Run** stores predictions
in the project (one history row per image), so the annotation history is not flooded while labelling.
Plug in with :func:`register` (``micview.gui.side_panel._BUILTIN_PANELS``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.core.store import Project
from micview.core.tasks import Progress, Task

MODELS = ("effnet-lite0+texture", "effnet-lite0")


class ClassifyPanel(QWidget):
    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = context
        self._scores: tuple[np.ndarray, np.ndarray, list[str]] | None = None  # ids, proba, classes
        self._live: Any = None
        self._live_key: tuple[str, str, bool] | None = None
        self.task_box, self.model_box = QComboBox(), QComboBox(editable=True)
        self.grouped, self.live = QCheckBox("Label groups"), QCheckBox("Live")
        self.live.setToolTip("Retrain on every labelling action (scores shown here, not saved until Run)")
        self.run_button, self.accept_button = QPushButton("Run"), QPushButton("Accept for selection")
        self.suggest_button, self.eval_button = QPushButton("Suggest"), QPushButton("Evaluate")
        self.status = QLabel("", wordWrap=True)
        self.scores = QTableWidget(0, 2)
        self.scores.setHorizontalHeaderLabels(["class", "score"])
        self.suggestions = QListWidget()
        self.confusion = QTableWidget(0, 0)
        self._layout()
        self._connect()

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Task", self.task_box)
        form.addRow("Model", self.model_box)
        row = QHBoxLayout()
        for w in (self.grouped, self.live, self.run_button):
            row.addWidget(w)
        actions = QHBoxLayout()
        for w in (self.accept_button, self.suggest_button, self.eval_button):
            actions.addWidget(w)
        root = QVBoxLayout(self)
        root.addLayout(form)
        root.addLayout(row)
        root.addWidget(self.status)
        root.addWidget(QLabel("Scores of the current image"))
        root.addWidget(self.scores)
        root.addLayout(actions)
        root.addWidget(QLabel("Label next (least certain, most varied)"))
        root.addWidget(self.suggestions)
        root.addWidget(QLabel("Confusion matrix (rows: your label, columns: predicted)"))
        root.addWidget(self.confusion)

    def _connect(self) -> None:
        self.run_button.clicked.connect(self._on_run_clicked)
        self.accept_button.clicked.connect(self._on_accept_clicked)
        self.suggest_button.clicked.connect(self._on_suggest_clicked)
        self.eval_button.clicked.connect(self._on_eval_clicked)
        self.suggestions.itemActivated.connect(self._on_suggestion_activated)
        self._ctx.selection.changed.connect(self._on_selection_changed)
        if getattr(self._ctx, "labels", None) is not None:
            self._ctx.labels.labels_changed.connect(self._on_labels_changed)

    # -- state -----------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Call when a project is opened or its tasks or embeddings change."""
        project = self._ctx.project
        self.task_box.clear()
        self.model_box.clear()
        if project is None:
            return
        self.task_box.addItems(project.labels.task_names())
        embedded = [m for m, _, _ in project.embeddings.models()]
        self.model_box.addItems(list(dict.fromkeys([*MODELS, *embedded])))

    def showEvent(self, event: Any) -> None:
        if not self.task_box.count():
            self.refresh()
        super().showEvent(event)

    def _args(self) -> tuple[Path, str, str, bool] | None:
        project, task = self._ctx.project, self.task_box.currentText()
        if project is None or not task:
            self.status.setText("Open a project and choose a labelled task.")
            return None
        return Path(project.path), task, self.model_box.currentText().strip(), self.grouped.isChecked()

    def _start(self, title: str, factory: Any, on_result: Any, quiet: bool = False) -> None:
        job = self._ctx.jobs.start(title, factory, pool="model", quiet=quiet)
        job.returned.connect(on_result)
        job.errored.connect(lambda message, _tb: self.status.setText(message))

    # -- run, accept -----------------------------------------------------------------------------------------
    def _on_run_clicked(self) -> None:
        if (args := self._args()) is not None:
            self.status.setText("Classifying…")
            self._start(f"Classify {args[1]}", lambda: _classify(*args), self._on_classified)

    def _on_classified(self, result: Any) -> None:
        self._scores = (result.image_ids, result.proba, result.classes)
        counts = ", ".join(f"{c} {n}" for c, n in result.counts().items())
        self.status.setText(f"{result.task}: {result.method}, {result.n_labels} labels. {counts}")
        self._on_selection_changed()

    def _on_accept_clicked(self) -> None:
        """Make the shown predictions of the selected images their user labels (undo with the label history)."""
        project, ids = self._ctx.project, list(self._ctx.selection.ids)
        if project is None or self._scores is None or not ids:
            return
        image_ids, proba, classes = self._scores
        row = {int(i): r for r, i in enumerate(image_ids.tolist())}
        new = {i: classes[int(proba[row[i]].argmax())] for i in ids if i in row}
        task = self.task_box.currentText() + ("_group" if self.grouped.isChecked() else "")
        project.labels.set_many(task, new, author="accepted prediction")
        self.status.setText(f"{len(new)} predictions accepted as '{task}' labels.")

    def _on_selection_changed(self, *_: Any) -> None:
        current = self._ctx.selection.current
        self.scores.setRowCount(0)
        if self._scores is None or current is None:
            return
        image_ids, proba, classes = self._scores
        hit = np.flatnonzero(image_ids == current)
        if len(hit):
            order = np.argsort(-proba[hit[0]])
            _fill(self.scores, [[classes[k], f"{proba[hit[0], k]:.3f}"] for k in order])

    # -- live retraining -------------------------------------------------------------------------------------
    def _on_labels_changed(self, task: str) -> None:
        args = self._args()
        if not self.live.isChecked() or args is None or task != args[1]:
            return
        key = (args[1], args[2], args[3])
        if self._live_key != key:
            self._live, self._live_key = None, key
        self._start("Retrain", lambda: _retrain(*args, self._live), self._on_retrained, quiet=True)

    def _on_retrained(self, result: Any) -> None:
        self._live, scores = result
        if scores is not None:
            self._scores = scores
            self._on_selection_changed()

    # -- suggestions and evaluation --------------------------------------------------------------------------
    def _on_suggest_clicked(self) -> None:
        if (args := self._args()) is not None:
            self._start("Suggest", lambda: _suggest(*args), self._on_suggested)

    def _on_suggested(self, rows: list[tuple[int, str]]) -> None:
        self.suggestions.clear()
        for image_id, text in rows:
            item = QListWidgetItem(text)
            item.setData(256, image_id)  # Qt.UserRole
            self.suggestions.addItem(item)

    def _on_suggestion_activated(self, item: QListWidgetItem) -> None:
        image_id = int(item.data(256))
        self._ctx.selection.set([image_id], source=self, current=image_id)

    def _on_eval_clicked(self) -> None:
        if (args := self._args()) is not None:
            self._start("Evaluate", lambda: _evaluate(*args), self._on_evaluated)

    def _on_evaluated(self, ev: Any) -> None:
        self.status.setText(f"{ev.model}: accuracy {ev.accuracy:.1%} · balanced {ev.balanced_accuracy:.1%} · "
                            f"macro F1 {ev.macro_f1:.3f} ({ev.n} images)")  # fmt: skip
        self.confusion.setColumnCount(len(ev.classes))
        self.confusion.setHorizontalHeaderLabels(ev.classes)
        _fill(self.confusion, [[str(v) for v in row] for row in ev.confusion])
        self.confusion.setVerticalHeaderLabels(ev.classes)


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.setItem(r, c, QTableWidgetItem(value))


# -- jobs (run on the model pool's thread, each with its own Project) ---------------------------------------------
def _view(project: Project, task: str, grouped: bool) -> Any:
    from micview.ml.classify import task_view

    return task_view(project, task, grouped=grouped)


def _embed_missing(project: Project, model_id: str) -> Task[None]:
    from micview.ml.embedding import embed_project, todo_rows
    from micview.ml.features import load_feature_embedder

    if todo_rows(project, model_id)[0]:
        yield from embed_project(project, model_id, embedder=load_feature_embedder(model_id))


def _classify(path: Path, task: str, model_id: str, grouped: bool) -> Task[Any]:
    from micview.ml.classify import classify

    with Project.open(path) as project:
        yield from _embed_missing(project, model_id)
        return (yield from classify(project, _view(project, task, grouped), model_id))


def _retrain(path: Path, task: str, model_id: str, grouped: bool, live: Any) -> Task[Any]:
    from micview.ml.classify import LiveClassifier, load_vectors

    yield Progress(0, 0, "Retraining")
    with Project.open(path) as project:
        view = _view(project, task, grouped)
        if live is None:
            ids, X = load_vectors(project, model_id)
            live = LiveClassifier(ids, X, view.classes(project))
        proba = live.update(view.labels(project))
    return live, (None if proba is None else (live.image_ids, proba, list(live.classes)))


def _suggest(path: Path, task: str, model_id: str, grouped: bool) -> Task[list[tuple[int, str]]]:
    from micview.ml.classify import suggest_for_task

    yield Progress(0, 0, "Finding images to label")
    with Project.open(path) as project:
        found = suggest_for_task(project, _view(project, task, grouped), model_id, n=20)
        names = {s.image_id: project.images.get(s.image_id).name for s in found}
    return [(s.image_id, f"{names[s.image_id]}  {s.predicted or ''} {s.score or 0:.2f}") for s in found]


def _evaluate(path: Path, task: str, model_id: str, grouped: bool) -> Task[Any]:
    from micview.ml.classify import evaluate_task

    yield Progress(0, 0, "Cross-validating")
    with Project.open(path) as project:
        view = _view(project, task, grouped)
        return evaluate_task(project, view, view.source, model_id=model_id, mode="cv")


def register() -> None:
    """Put this panel in the side panel's Classify tab (call before the main window is created)."""
    from micview.gui.side_panel import register_panel

    register_panel("Classify", ClassifyPanel)
