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

import numpy as np

from micview.core.store import Project
from micview.core.tasks import Progress, Task
from micview.gui.controllers.safety import refuse_write
from micview.gui.session import Session
from micview.gui.state import Scores
from micview.gui.workers import Job

MODELS = ("effnet-lite0+native+texture", "effnet-lite0+texture", "effnet-lite0")


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
    def run(self, req: Request) -> Job | None:
        if refuse_write(self.session, f"Classifying {req.task}", popup=False):
            self.session.classify.update(status="Read-only project: predictions cannot be saved.", busy="")
            return None
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
        if refuse_write(self.session, "Accepting predictions", popup=False):
            self.session.classify.update(status="Read-only project: accepted labels cannot be saved.")
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
    def suggest(self, req: Request, on_result: Callable[[list[SuggestionRow]], None]) -> Job:
        """What to label next (``micview suggest``'s strategy, a reason each); the grid shows them in order."""
        path, device = self._path(), self.session.settings.device
        self.session.classify.update(busy="Finding images to label…")

        def done(rows: list[SuggestionRow]) -> None:
            self.session.classify.update(busy="", status=suggest_status(rows, self.session, req))
            self.show_suggestions(rows, req)
            on_result(rows)

        return self._start("Suggest", lambda: suggest_task(path, req, device), done)

    def show_suggestions(self, rows: list[SuggestionRow], req: Request) -> None:
        """Show the suggested images in the grid, in order (their chip: how unsure the classifier is)."""
        if rows:
            ids = np.array([r.image_id for r in rows], np.int64)
            self.session.results.set(ids, np.array([r.uncertainty for r in rows]), f"“label next: {req.task}”")

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


def suggest_status(rows: list[SuggestionRow], session: Session, req: Request) -> str:
    """Why a suggestion list is what it is — above all, why it is empty."""
    if rows:
        cover = sum(r.kind == "cover" for r in rows)
        parts = [f"{cover} typical of groups with no label yet" if cover else "",
                 f"{len(rows) - cover} the classifier is unsure about" if len(rows) > cover else ""]  # fmt: skip
        return (f"{len(rows)} images to label next for {req.task}: {' and '.join(p for p in parts if p)}. The grid "
                "shows them in this order: select them and press a number key.")  # fmt: skip
    project = session.project
    if project is None:
        return "No project is open."
    ids, _ = project.embeddings.for_images(req.model_id)
    if not len(ids):
        return f"No suggestions: no image has {req.model_id} vectors yet. Run the classifier once (it computes them)."
    labelled = set(project.labels.labels(req.task))
    left = [i for i in ids.tolist() if i not in labelled]
    if not left:
        return f"No suggestions: all {len(ids):,} images with {req.model_id} vectors are labelled for {req.task}."
    return (f"No suggestions: the {len(left):,} unlabelled images are near-copies of labelled ones "
            "(same specimen or frame); label them by hand if needed.")  # fmt: skip


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


@dataclass(frozen=True)
class SuggestionRow:
    """One image to label next, as the Classify tab lists it (from :class:`micview.ml.classify.Suggestion`)."""

    image_id: int
    name: str
    predicted: str | None
    score: float | None
    uncertainty: float
    reason: str
    kind: str  # 'cover' or 'uncertain'


def suggest_task(path: Path, req: Request, device: str = "auto") -> Task[list[SuggestionRow]]:
    """``micview suggest``'s work: the missing vectors first, then :func:`~micview.ml.classify.suggest_for_task`."""
    from micview.ml.classify import suggest_for_task

    with Project.open(path) as project:
        yield from _embed_missing(project, req.model_id, device)
        yield Progress(0, 0, "Finding images to label")
        found = suggest_for_task(project, _view(project, req), req.model_id, n=20)
        return [SuggestionRow(s.image_id, project.images.get(s.image_id).name, s.predicted, s.score, s.uncertainty,
                              s.reason, s.kind) for s in found]  # fmt: skip


def evaluate_task(path: Path, req: Request) -> Task[Any]:
    from micview.ml.classify import evaluate_task as evaluate

    yield Progress(0, 0, "Cross-validating")
    with Project.open(path) as project:
        view = _view(project, req)
        return evaluate(project, view, view.source, model_id=req.model_id, mode="cv")
