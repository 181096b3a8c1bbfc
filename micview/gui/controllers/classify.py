"""Classification from the window: run, live retraining, suggestions, evaluation, accepting predictions.

Runs and evaluations are jobs on the one-thread ``model`` pool, each opening its own ``Project`` on the worker
thread. **Run** stores predictions in the project (one history row per image) and tells every view through
``labels_changed``. **Live** retraining keeps one :class:`~micview.ml.classify.LiveClassifier` per (project,
task, model) in the shared model cache and refreshes the scores *in memory only*, so the annotation history is
not flooded while labelling. Accepting predictions is one undoable label write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micview.core.store import Project
from micview.core.tasks import Progress, Task
from micview.gui.session import Session
from micview.gui.state import Scores
from micview.gui.workers import Job

MODELS = ("effnet-lite0+texture", "effnet-lite0")


@dataclass(frozen=True)
class Request:
    """What to classify: the label task, the model (a feature id), and whether to use the task's groups."""

    task: str
    model_id: str
    grouped: bool = False

    @property
    def target(self) -> str:
        """The task the predictions and accepted labels belong to."""
        return self.task + ("_group" if self.grouped else "")


class ClassifyController:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _path(self) -> Path:
        return self.session.require_project().path

    def _start(self, title: str, factory: Callable[[], Task[Any]], on_result: Callable[[Any], None],
               quiet: bool = False) -> Job:  # fmt: skip
        return self.session.jobs.start(
            title, factory, pool="model", quiet=quiet, on_result=on_result,
            on_error=lambda message, _details: self.session.classify.update(status=message, busy=""),
            on_cancel=lambda: self.session.classify.update(status="Cancelled.", busy=""),
        )  # fmt: skip

    # -- run and accept ---------------------------------------------------------------------------------------
    def run(self, req: Request) -> Job:
        path = self._path()
        self.session.classify.update(busy="Classifying…", status="Classifying…")
        return self._start(f"Classify {req.task}", lambda: classify_task(path, req), self._on_classified)

    def _on_classified(self, result: Any) -> None:
        scores = Scores(result.task, result.image_ids, result.proba, list(result.classes))
        counts = ", ".join(f"{c} {n}" for c, n in result.counts().items())
        status = f"{result.task}: {result.method}, {result.n_labels} labels. {counts}"
        self.session.classify.update(scores=scores, status=status, busy="")
        self.session.tasks_changed.emit()  # a grouped run defines <task>_group
        self.session.labels_changed.emit(result.task)  # its predictions changed

    def accept(self) -> int:
        """Make the shown predictions of the selected images their labels (one undoable step)."""
        from micview.gui.controllers.labelling import LabellingController

        scores, ids = self.session.classify.scores, list(self.session.selection.ids)
        if scores is None or not ids:
            self.session.classify.update(status="Run the classifier and select images first.")
            return 0
        new = scores.predicted(ids)
        text = f"accept {len(new)} prediction{'s' * (len(new) != 1)} as “{scores.task}” labels"
        LabellingController(self.session).write(scores.task, dict(new), text, author="accepted prediction")
        self.session.classify.update(
            status=f"{len(new)} predictions accepted as '{scores.task}' labels (Ctrl+Z undoes)."
        )
        return len(new)

    # -- live retraining ----------------------------------------------------------------------------------------
    def retrain(self, req: Request) -> Job:
        path = self._path()
        key = f"{path}|{req.task}|{req.model_id}|{req.grouped}"
        return self._start("Retrain", lambda: retrain_task(path, req, key), self._on_retrained, quiet=True)

    def _on_retrained(self, scores: Scores | None) -> None:
        if scores is not None:
            self.session.classify.update(scores=scores)

    # -- suggestions and evaluation -------------------------------------------------------------------------------
    def suggest(self, req: Request, on_result: Callable[[list[tuple[int, str]]], None]) -> Job:
        path = self._path()
        self.session.classify.update(busy="Finding images to label…")

        def done(rows: list[tuple[int, str]]) -> None:
            self.session.classify.update(busy="", status=suggest_status(rows, self.session, req))
            on_result(rows)

        return self._start("Suggest", lambda: suggest_task(path, req), done)

    def evaluate(self, req: Request, on_result: Callable[[Any], None]) -> Job:
        path = self._path()
        self.session.classify.update(busy="Cross-validating…", status="Cross-validating…")

        def done(ev: Any) -> None:
            self.session.classify.update(busy="", status=evaluation_text(ev))
            on_result(ev)

        return self._start("Evaluate", lambda: evaluate_task(path, req), done)


def evaluation_text(ev: Any) -> str:
    return (
        f"{ev.model}: accuracy {ev.accuracy:.1%} · balanced {ev.balanced_accuracy:.1%} · "
        f"macro F1 {ev.macro_f1:.3f} ({ev.n} images)"
    )


def suggest_status(rows: list[tuple[int, str]], session: Session, req: Request) -> str:
    """Why a suggestion list is what it is — above all, why it is empty."""
    if rows:
        return f"{len(rows)} images to label next for {req.task}: least certain and most varied first."
    project = session.project
    if project is None:
        return "No project is open."
    labelled = len(project.labels.labels(req.task))
    embedded = {m: n for m, n, _ in project.embeddings.models()}.get(req.model_id, 0)
    if not embedded:
        return f"No suggestions: no image has {req.model_id} vectors yet. Run the classifier once (it computes them)."
    if labelled >= embedded:
        return f"No suggestions: all {embedded:,} images with {req.model_id} vectors are labelled for {req.task}."
    return "No suggestions for this task and model."


# -- jobs (run on the model pool's thread, each with its own Project) ---------------------------------------------
def _view(project: Project, req: Request) -> Any:
    from micview.ml.classify import task_view

    return task_view(project, req.task, grouped=req.grouped)


def _embed_missing(project: Project, model_id: str, device: str) -> Task[None]:
    from micview.ml.embedding import embed_project, todo_rows
    from micview.ml.model_cache import shared

    if todo_rows(project, model_id)[0]:
        yield Progress(0, 0, f"Loading {model_id}")
        yield from embed_project(project, model_id, embedder=shared().embedder(model_id, device))


def classify_task(path: Path, req: Request, device: str = "auto") -> Task[Any]:
    from micview.ml.classify import classify

    with Project.open(path) as project:
        yield from _embed_missing(project, req.model_id, device)
        return (yield from classify(project, _view(project, req), req.model_id))


def retrain_task(path: Path, req: Request, key: str) -> Task[Scores | None]:
    from micview.ml.classify import LiveClassifier, load_vectors
    from micview.ml.model_cache import shared

    yield Progress(0, 0, "Retraining")
    with Project.open(path) as project:
        view = _view(project, req)

        def build() -> Any:
            ids, X = load_vectors(project, req.model_id)
            return LiveClassifier(ids, X, view.classes(project))

        live = shared().classifier(key, build)
        proba = live.update(view.labels(project))
    return None if proba is None else Scores(req.target, live.image_ids, proba, list(live.classes))


def suggest_task(path: Path, req: Request) -> Task[list[tuple[int, str]]]:
    from micview.ml.classify import suggest_for_task

    yield Progress(0, 0, "Finding images to label")
    with Project.open(path) as project:
        found = suggest_for_task(project, _view(project, req), req.model_id, n=20)
        names = {s.image_id: project.images.get(s.image_id).name for s in found}
    return [(s.image_id, f"{names[s.image_id]}  {s.predicted or ''} {s.score or 0:.2f}") for s in found]


def evaluate_task(path: Path, req: Request) -> Task[Any]:
    from micview.ml.classify import evaluate_task as evaluate

    yield Progress(0, 0, "Cross-validating")
    with Project.open(path) as project:
        view = _view(project, req)
        return evaluate(project, view, view.source, model_id=req.model_id, mode="cv")
