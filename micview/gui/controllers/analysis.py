"""Analysis and data quality from the window: run them as jobs, keep prompt groups, act on what they found.

``analyse`` (the Analysis tab) and ``run_quality`` (the Quality view) are jobs on the one-thread ``model`` pool,
each opening its own ``Project`` and first computing the vectors that are missing. A stored quality result is
read on the GUI thread with :func:`micview.core.quality.load_quality` (:meth:`AnalysisController.quality`), so
the map and the Quality view show it without running anything; ``Session.quality_changed`` says a new one is
stored. The actions on issues — accept a suggested label, tag images ``duplicate`` or ``exclude`` — are single
undoable steps on the session's undo stack, as label keys are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from micview.core.errors import ProjectError
from micview.core.store import Project
from micview.core.tasks import Progress, Task
from micview.gui.controllers.labelling import LabellingController
from micview.gui.controllers.safety import refuse_write
from micview.gui.session import Session
from micview.gui.workers import Job

if TYPE_CHECKING:
    from micview.core.quality import QualityResult
    from micview.ml.analysis import AnalysisResult, PromptGroups

TASK_PROMPTS = "@task"  # AnalysisRequest.groups: the task's prompt set, one group per class
DUPLICATE_TAG, EXCLUDE_TAG = "duplicate", "exclude"


@dataclass(frozen=True)
class AnalysisRequest:
    """What to analyse: the model's vectors, the label task (``None``: none) and the prompt groups — a saved
    set's name, :data:`TASK_PROMPTS`, or ``None`` for no groups (the image side only)."""

    model_id: str
    task: str | None = None
    groups: str | None = None


@dataclass(frozen=True)
class QualityRequest:
    """What to check: the model's vectors, the label task whose labels are checked, and the clustering."""

    model_id: str
    task: str | None = None
    clusters: str = "kmeans"
    n_clusters: int | None = None


class AnalysisController:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- choices --------------------------------------------------------------------------------------------------
    def model_choices(self) -> list[str]:
        """The models with vectors in the project (most images first), then the one the map uses."""
        project = self.session.project
        embedded = [m for m, n, _ in sorted(project.embeddings.models(), key=lambda t: -t[1])] if project else []
        return list(dict.fromkeys([*embedded, self.session.model_id]))

    def label_tasks(self) -> list[str]:
        """Tasks that carry labels (``<task>_group`` tasks with predictions only are left out)."""
        project = self.session.project
        if project is None:
            return []
        return [t for t in project.labels.task_names() if project.labels.has_labels(t) or _grouped_source(project, t)]

    def group_names(self) -> list[str]:
        from micview.ml.analysis import saved_group_names

        project = self.session.project
        return saved_group_names(project) if project is not None else []

    def groups(self, name: str) -> PromptGroups | None:
        from micview.ml.analysis import load_groups

        project = self.session.project
        return load_groups(project, name) if project is not None and name else None

    def last_group_name(self) -> str:
        """The name of the prompt groups used last in this project ("" when none were saved)."""
        from micview.ml.analysis import PromptGroupError, load_groups

        project = self.session.project
        try:
            found = load_groups(project) if project is not None else None
        except PromptGroupError:  # a damaged entry: the user picks another set
            return ""
        return found.name if found is not None else ""

    def save_groups(self, groups: PromptGroups) -> bool:
        """Keep ``groups`` in the project (replacing a set of the same name); false when it could not be saved."""
        from micview.ml.analysis import save_groups

        if refuse_write(self.session, f"Saving the prompt groups “{groups.name}”"):
            return False
        try:
            save_groups(self.session.require_project(), groups)
        except ProjectError as exc:
            self.session.errors.report("The prompt groups were not saved", str(exc))
            return False
        return True

    def import_groups(self, path: Path) -> PromptGroups | None:
        """Read a prompt-group JSON file (the seed scripts' paired layout too) and save it in the project."""
        from micview.ml.analysis import PromptGroupError, read_groups

        try:
            groups = read_groups(path)
        except PromptGroupError as exc:
            self.session.errors.report("Prompt groups not imported", str(exc))
            return None
        return groups if self.save_groups(groups) else None

    # -- jobs -------------------------------------------------------------------------------------------------------
    def analyse(
        self,
        req: AnalysisRequest,
        on_result: Callable[[Any], object],
        on_error: Callable[[str, str], object],
        on_cancel: Callable[[], object],
    ) -> Job | None:
        """Analyse as a job (vectors computed first); the result is stored as a run and handed to ``on_result``."""
        if refuse_write(self.session, "Analysing the embeddings", popup=False):
            return None
        path, device = self.session.require_project().path, self.session.settings.device

        def done(result: AnalysisResult) -> None:
            self._show_map(result.model_id)
            on_result(result)

        return self.session.jobs.start(
            f"Analyse {req.model_id}",
            lambda: analysis_task(path, req, device),
            pool="model",
            on_result=done,
            on_error=on_error,
            on_cancel=on_cancel,
        )

    def run_quality(
        self,
        req: QualityRequest,
        on_error: Callable[[str, str], object] | None = None,
        on_cancel: Callable[[], object] | None = None,
    ) -> Job | None:
        """Check the data's quality as a job; when stored, ``Session.quality_changed`` tells every view."""
        if refuse_write(self.session, "Checking the data quality", popup=False):
            return None
        path, device = self.session.require_project().path, self.session.settings.device
        return self.session.jobs.start(
            f"Data quality ({req.model_id})",
            lambda: quality_job(path, req, device),
            pool="model",
            on_result=self._on_quality,
            on_error=on_error,
            on_cancel=on_cancel,
        )

    def _on_quality(self, result: QualityResult) -> None:
        s = result.summary()
        self.session.status(
            f"Data quality: {s['near_duplicates']} near duplicates, {s['label_issues']} suspected label mistakes, "
            f"{s['outliers']} outliers in {s['images']:,} images."
        )
        self.session.quality_changed.emit()
        self._show_map(result.model_id)

    def _show_map(self, model_id: str) -> None:
        """Vectors the job computed (new images, or a project never embedded) go on the map of that model."""
        from micview.gui.controllers.maps import MapController

        project, state = self.session.project, self.session.map
        if project is None or state.embedding or model_id != self.session.model_id:
            return
        embedded = {m: n for m, n, _ in project.embeddings.models()}.get(model_id, 0)
        if embedded > (len(state.data.ids) if state.data is not None else 0):
            MapController(self.session).refresh()

    def quality(self) -> QualityResult | None:
        """The latest stored quality result (any model), or ``None``."""
        from micview.core.quality import load_quality

        project = self.session.project
        return load_quality(project) if project is not None else None

    # -- acting on what was found -------------------------------------------------------------------------------------
    def select(self, ids: Iterable[int], source: object = None) -> None:
        ids = [int(i) for i in ids]
        if ids:
            self.session.selection.set(ids, source=source, current=ids[0])

    def can_relabel(self, task: str | None) -> bool:
        """Whether suggested labels of ``task`` can be written: not for a grouped view (``technique_group``
        derives its labels from ``technique``, so a group name cannot be written back as one label)."""
        project = self.session.project
        return bool(task) and project is not None and not _grouped_source(project, str(task))

    def accept_suggested(self, task: str, labels: dict[int, str]) -> int:
        """Write the suggested labels (image id → label) as one undoable step; returns how many."""
        if not labels or not self.can_relabel(task):
            return 0
        n = len(labels)
        text = f"accept {n} suggested label{'s' * (n != 1)} ({task})"
        LabellingController(self.session).write(task, labels, text, author="quality suggestion")
        return n

    def tag(self, ids: Sequence[int], tag: str) -> int:
        """Tag the images (one undoable step); returns how many did not have the tag yet."""
        project = self.session.project
        if project is None or not ids:
            return 0
        have = project.fields.tags()
        new = [int(i) for i in ids if tag not in have.get(int(i), [])]
        if new:
            LabellingController(self.session).push(TagImages(self.session, new, tag))
        return len(new)

    def original_of(self, ids: Sequence[int]) -> int:
        """The image of a duplicate group to keep: the most pixels (resized and cropped copies have fewer), then
        the first imported."""
        catalog = self.session.catalog

        def pixels(image_id: int) -> int:
            row = catalog.row(image_id)
            return (row.width or 0) * (row.height or 0) if row is not None else 0

        return min((int(i) for i in ids), key=lambda i: (-pixels(i), i))

    def tags(self) -> dict[int, list[str]]:
        project = self.session.project
        return project.fields.tags() if project is not None else {}


def _grouped_source(project: Project, task: str) -> bool:
    """``task`` is a derived ``<base>_group`` view whose labels come from ``<base>``."""
    return task.endswith("_group") and not project.labels.labels(task) and bool(project.labels.labels(task[:-6]))


class TagImages(QUndoCommand):
    """Add ``tag`` to images that lack it; undo removes it from those same images."""

    def __init__(self, session: Session, ids: list[int], tag: str) -> None:
        super().__init__(f"tag {len(ids)} image{'s' * (len(ids) != 1)} “{tag}”")
        self.session, self.ids, self.tag = session, ids, tag

    def redo(self) -> None:
        self._do(lambda p: p.fields.add_tags(self.ids, self.tag))

    def undo(self) -> None:
        self._do(lambda p: p.fields.remove_tags(self.ids, self.tag))

    def _do(self, write: Callable[[Project], None]) -> None:
        project = self.session.project
        if project is None:
            return
        try:
            write(project)
        except ProjectError as exc:
            self.setObsolete(True)
            self.session.errors.report("The tags were not saved", str(exc))
            return
        self.session.fields_changed.emit()


# -- jobs (on the model pool's thread, each with its own Project) ----------------------------------------------------
def embed_missing(project: Project, model_id: str, device: str) -> Task[None]:
    from micview.ml.embedding import embed_project, todo_rows
    from micview.ml.model_cache import shared

    if todo_rows(project, model_id)[0]:
        yield Progress(0, 0, f"Loading {model_id}")
        yield from embed_project(project, model_id, embedder=shared().embedder(model_id, device))


def _view(project: Project, task: str | None) -> Any:
    if not task:
        return None
    from micview.ml.analysis import AnalysisError
    from micview.ml.classify import task_view

    view = task_view(project, task)
    if not view.labels(project):
        raise AnalysisError(f"Task '{task}' has no labels in this project: choose another or none.")
    return view


def _text_embedder(model_id: str, device: str) -> Any:
    from micview.ml.analysis.defaults import has_text
    from micview.ml.model_cache import shared

    return shared().embedder(model_id, device) if has_text(model_id) else None


def analysis_task(path: Path, req: AnalysisRequest, device: str = "auto") -> Task[AnalysisResult]:
    from micview.ml.analysis import analyse, load_groups
    from micview.ml.analysis.defaults import task_groups

    with Project.open(path) as project:
        yield from embed_missing(project, req.model_id, device)
        view = _view(project, req.task)
        if req.groups == TASK_PROMPTS:
            groups = task_groups(project, view) if view is not None else None
        else:
            groups = load_groups(project, req.groups) if req.groups else None
        embedder = _text_embedder(req.model_id, device) if groups is not None else None
        return (yield from analyse(project, req.model_id, view=view, groups=groups, embedder=embedder))


def quality_job(path: Path, req: QualityRequest, device: str = "auto") -> Task[QualityResult]:
    from micview.ml.analysis import load_groups
    from micview.ml.analysis.defaults import naming_prompts
    from micview.ml.quality import QualityOptions, quality_task

    with Project.open(path) as project:
        yield from embed_missing(project, req.model_id, device)
        view = _view(project, req.task)
        yield Progress(0, 0, "Preparing")
        named = view is not None or load_groups(project) is not None  # else no prompts: no model to load
        prompts = naming_prompts(project, req.model_id, view, _text_embedder(req.model_id, device) if named else None)
        options = QualityOptions(clusters=req.clusters, n_clusters=req.n_clusters)
        return (yield from quality_task(project, req.model_id, view=view, options=options, prompts=prompts))
