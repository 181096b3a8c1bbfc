"""What the window is about, in one typed, observable object: the :class:`Session`.

Why (architecture.md; napari's ViewerModel, glue's Hub): views — the thumbnail grid, the map, the viewer, the
side-panel tabs, the plate view — never call each other. Each observes the parts of the Session it shows and
acts through a small controller (:mod:`micview.gui.controllers`); controllers write to the project and to the
Session, and the Session's signals tell every view. Adding a view never means wiring it to the others.

API (other features — the Analysis tab, the Models dialog, read-only projects — build on this)
----------------------------------------------------------------------------------------------
``Session(settings)``, one per main window; every part lives on the GUI thread:

* ``settings`` — :class:`~micview.gui.settings.Settings`, the app preferences.
* ``project`` — the open :class:`~micview.core.store.Project` (this thread's connection) or ``None``;
  ``project_changed(project_or_None)`` after :meth:`Session.set_project`. Jobs never use this connection:
  they open their own with ``Project.open(session.project.path)`` on the worker thread.
* ``catalog`` — :class:`~micview.gui.state.ImageCatalog`, the readable images (``rows``, ``row(id)``,
  ``name(id)``); ``catalog.changed()`` after an import or re-scan.
* ``selection`` — :class:`~micview.gui.selection.Selection` (ids + current); ``changed(source)``.
* ``results`` — :class:`~micview.gui.selection.Results`, the latest search ranking; ``changed()``.
* ``task`` — :class:`~micview.gui.state.ActiveTask` (name, classes) the number keys label; ``changed(name)``.
* ``labels_changed(task)`` — labels or predictions of ``task`` were written (by a controller or a job). When the
  writer knows exactly which user labels it wrote (a label key, an undo or redo, accepted predictions, an
  import), it calls ``labels_written(task, {id: label or None})`` instead, which emits ``labels_changed(task)``
  with that :class:`LabelWrite` readable as ``session.label_write`` while the signal is delivered (``None``
  otherwise): an observer that shows labels per image updates those images only, instead of re-reading the
  task (a third of a second at 100 000 images).
* ``tasks_changed()`` — a task was defined, redefined or imported.
* ``fields_changed()`` — imported metadata columns changed (a label CSV's other columns).
* ``shown`` — :class:`~micview.gui.state.ShownImages`, ids the browser shows in display order.
* ``map`` — :class:`~micview.gui.state.MapState`, the embedding map (or why there is none); ``changed()`` for a
  new map, ``appended(ids, xy)`` when ``map.append`` added points to the shown one (watch mode: keep the zoom).
* ``model_id`` and ``model_changed(model_id)`` — the embedding model for maps and search.
* ``models_changed()`` — a model was added, downloaded or removed (``ModelsController``): model lists re-read.
* ``classify`` — :class:`~micview.gui.state.ClassifyState`, the Classify tab's scores and status.
* ``jobs`` — :class:`~micview.gui.workers.JobManager`: ``jobs.start(title, factory, pool=, on_result=,
  on_error=, on_cancel=)``; results are delivered once and released.
* ``thumbnails`` — :class:`~micview.gui.thumbnails.ThumbnailCache`: ``thumbnails.get(id)`` → QPixmap.
* ``undo_stack`` — the one QUndoStack for labels (browser keys, plate scores, accepted predictions).
* ``errors`` — :class:`~micview.gui.state.ErrorLog`: ``errors.report(title, message, details, popup=)``;
  the window shows each ``reported(entry)``; ``errors.last``.
* ``notify(text, actions)`` → ``noticed(Notice)``: a status-bar line that stays, with one-click actions
  (``actions``: ``(("Show the files", "import_errors"), …)``, ids the window knows: see
  :class:`~micview.gui.state.Notice`); ``status(text, msecs)`` → ``status_posted`` for a brief one.
* ``viewer_requested(image_id)`` — ask the window to show an image in the viewer
  (:meth:`ViewerController.open <micview.gui.controllers.viewer.ViewerController.open>`).
* ``import_finished(summary)`` — an :class:`~micview.core.importer.ImportSummary` just arrived.
* ``labels_imported(outcome)`` — a label CSV import ended: a
  :class:`~micview.gui.controllers.label_files.LabelImport` (CSV, tasks, the core's whole report); the window
  shows the report (rows that disagree, unmatched rows, renamed and ignored columns) and offers to import again.
* ``quality_changed()`` — a data-quality result was stored (``AnalysisController.run_quality``): the map's
  colour-by columns and the Quality view re-read it (:func:`micview.core.quality.load_quality`).

Controllers (``micview.gui.controllers``) are built from the session and keep no state of their own (it all
lives here), so a panel makes the ones it needs; ``Controllers.of(session)`` bundles one of each:

* ``ProjectController``: ``open(path)`` (synchronous), ``open_async(path, then)`` (the slow part of an open —
  today's backup, the check, a wait for a writer — as a job; the menus use it), ``create(path)``, ``close()``,
  ``new_from_folder(folder,
  project_path, then)``, ``add_folder(folder, then)``, ``add_files(paths)`` (files and folders, one pass of
  :func:`~micview.core.importer.add_paths`), ``add_paths(paths)`` (a drop), ``import_errors()`` (unreadable
  files and the files imports skipped), ``open_sample(folder)``. Errors go to ``errors``, never raised.
* ``LabelFilesController``: ``preview(csv)``, ``import_labels(csv, tasks, last_wins=, match_names=)`` (one
  undoable step), ``export(out, scope)`` with scope
  ``"all"``, ``"selection"`` or ``"shown"``.
* ``LabellingController``: ``tasks()``, ``set_task(name)``, ``define(name, classes)``, ``assign(k)``,
  ``remove()``, ``write(task, {id: label}, text)`` (one undoable step), ``push(command)``.
* ``MapController``: ``embed()``, ``refresh()``, ``set_method(m)``, ``set_model(id)``, ``model_choices()``.
* ``SearchController``: ``text(query)``, ``similar()``, ``clear()``.
* ``ViewerController``: ``open(id)``, ``open_current()``, ``neighbour(id, step)``, ``read_frame(...)``.
* ``ModelsController``: ``installed()``, ``recommended()``, ``add_folder(folder, id)``, ``pull(id)`` (jobs),
  ``remove(id)``, ``use(id)``, ``offline_ids()``; errors are reported as "Models" (no pop-up).
* ``ClassifyController``: ``run(req)``, ``retrain(req)``, ``suggest(req, cb)``, ``evaluate(req, cb)``, ``accept()``.
* ``PlatesController``: ``score_well(...)``, ``score_with_marco(...)``, ``learn_scores(...)``, ``export_csv/png``.
* ``AnalysisController`` (the Analysis tab, the Quality view): ``analyse(req, …)`` and ``run_quality(req)`` (jobs),
  ``quality()`` (the stored result), prompt groups (``group_names()``, ``groups(name)``, ``save_groups(g)``,
  ``import_groups(path)``), ``accept_suggested(task, labels)`` and ``tag(ids, tag)`` (undoable).
* ``SafetyController``: ``check_now()``, ``salvage(dest)``, ``save_copy(dest)``, ``backups()``, ``back_up_now()``,
  ``restore(backup)`` (jobs); ``refuse_write(session, doing)`` is what every write asks first: on a read-only
  project it says what was not done and why. :func:`~micview.gui.safety.project_safety` ``(session)`` holds
  ``read_only``, ``reason``, ``damaged`` and ``changed()`` (the banner and the menus observe it).

Jobs return results through ``on_result``; a controller writes them into the session, whose signals update
the views. A side-panel tab is registered with ``side_panel.register_panel(name, factory)``, where
``factory(session) -> QWidget``; a long job of a new feature is a generator task started with ``session.jobs``
(models from :func:`micview.ml.model_cache.shared`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from micview.gui.selection import Results, Selection
from micview.gui.settings import Settings
from micview.gui.state import (
    ActiveTask,
    ClassifyState,
    ErrorLog,
    ImageCatalog,
    MapState,
    Notice,
    ShownImages,
)  # fmt: skip
from micview.gui.thumbnails import ThumbnailCache
from micview.gui.workers import JobManager

if TYPE_CHECKING:
    from micview.core.store import Project


@dataclass(frozen=True)
class LabelWrite:
    """The user labels of ``task`` just written: image id → its label now (``None``: it has none now)."""

    task: str
    labels: Mapping[int, str | None]


class Session(QObject):
    """The open project and everything the window shows about it (see the module docstring)."""

    project_changed = Signal(object)
    labels_changed = Signal(str)
    tasks_changed = Signal()
    fields_changed = Signal()
    model_changed = Signal(str)
    models_changed = Signal()
    noticed = Signal(object)
    status_posted = Signal(str, int)
    viewer_requested = Signal(int)
    import_finished = Signal(object)
    labels_imported = Signal(object)
    quality_changed = Signal()

    def __init__(self, settings: Settings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or Settings()
        self._project: Project | None = None
        self.catalog = ImageCatalog(self)
        self.selection = Selection(self)
        self.results = Results(self)
        self.task = ActiveTask(self)
        self.shown = ShownImages(self)
        self.map = MapState(self)
        self.classify = ClassifyState(self)
        self.errors = ErrorLog(self)
        self.jobs = JobManager(self)
        self.thumbnails = ThumbnailCache(lambda: self._project)
        self.undo_stack = QUndoStack(self)
        self._model_id = self.settings.model_id
        self.label_write: LabelWrite | None = None  # set only while labels_written() delivers labels_changed

    # -- the project ----------------------------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self._project

    def require_project(self) -> Project:
        from micview.core.errors import MicviewError

        if self._project is None:
            raise MicviewError("No project is open.")
        return self._project

    def set_project(self, project: Project | None) -> None:
        """Make ``project`` the open one (closing the previous one) and tell every view."""
        old = self._project
        if old is not None:
            self.jobs.cancel_all()
        self.selection.clear()
        self.results.clear()
        self.undo_stack.clear()
        self.thumbnails.clear()
        self.classify.update(scores=None, status="", busy="")
        self.map.generation += 1  # maps still computing for the old project are dropped when they arrive
        self.map.embedding = False
        self.map.set_empty("")
        self._project = project
        self.catalog.reload(project)
        self.task.set("", [])
        if old is not None:
            old.close()
        self.project_changed.emit(project)

    def labels_written(self, task: str, labels: Mapping[int, str | None]) -> None:
        """Tell every view that ``labels`` (id → label now, ``None`` removed) of ``task`` were written: emits
        ``labels_changed(task)`` with :attr:`label_write` set meanwhile (see the module docstring)."""
        outer, self.label_write = self.label_write, LabelWrite(task, labels)
        try:
            self.labels_changed.emit(task)
        finally:
            self.label_write = outer

    # -- the embedding model --------------------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self._model_id

    def set_model_id(self, model_id: str) -> None:
        if model_id and model_id != self._model_id:
            self._model_id = model_id
            self.settings.model_id = model_id
            self.model_changed.emit(model_id)

    # -- messages ---------------------------------------------------------------------------------------------
    def notify(self, text: str, actions: tuple[tuple[str, str], ...] = ()) -> Notice:
        notice = Notice(text, actions)
        self.noticed.emit(notice)
        return notice

    def status(self, text: str, msecs: int = 10_000) -> None:
        self.status_posted.emit(text, msecs)
