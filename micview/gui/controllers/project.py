"""Opening, creating and closing projects; adding folders and files; recent projects; the sample.

Errors a user can cause (a missing file, a project from a newer micview, a folder that vanished) are
reported to the session's error log, never raised to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from micview.core.errors import MicviewError, NotAProjectError, ProjectDamagedError
from micview.core.store import PROJECT_SUFFIX, Project, list_backups
from micview.core.store.integrity import damage_error
from micview.core.store.paths import readable
from micview.gui import background
from micview.gui.controllers.safety import refuse_write
from micview.gui.safety import is_damage, open_error, project_safety
from micview.gui.session import Session
from micview.gui.workers import Job


def import_text(summary: Any) -> str:
    """One line about an import: what was added, and what could not be read."""
    failed = len(summary.errors)
    new = max(0, summary.added - failed)  # a file that could not be read is listed (with why), not an image
    parts = [f"Imported {new:,} new image{'s' * (new != 1)}"]
    if summary.updated:
        parts.append(f"{summary.updated:,} updated")
    if failed:
        parts.append(f"{failed:,} file{'s' * (failed != 1)} could not be read")
    if summary.missing:
        parts.append(f"{len(summary.missing):,} no longer found")
    if summary.moved:
        parts.append(f"{len(summary.moved):,} moved (labels kept)")
    if summary.skipped:
        parts.append(f"{len(summary.skipped):,} skipped (not a regular file, or gone)")
    return ", ".join(parts) + "."


class SkippedFiles(QObject):
    """Files this window's imports skipped without making a record (FIFOs, devices, paths gone since they were
    chosen): the list of files that could not be imported shows them beside the unreadable ones, until the
    project changes. (Unreadable files have a record with their reason; these exist only in an import's summary.)
    """

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setObjectName("skipped_files")
        self.items: dict[str, str] = {}  # stored path -> why
        session.project_changed.connect(lambda _project: self.items.clear())


def skipped_files(session: Session) -> SkippedFiles:
    """The session's :class:`SkippedFiles` (made on first use)."""
    found = session.findChild(SkippedFiles, "skipped_files")
    return found if found is not None else SkippedFiles(session)


def _unreadable(project: Project) -> MicviewError | None:
    """Why a damaged project cannot be shown at all (its tables or label tasks unreadable), or None."""
    if not project.read_only:
        return None
    try:
        project.labels.task_names()  # every view reads these (and the list of tables) when a project opens
    except Exception as exc:
        if not is_damage(exc):
            raise
        return damage_error(exc, project.path)
    return None


class ProjectController:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- open, create, close --------------------------------------------------------------------------------
    def open(self, path: str | Path) -> bool:
        """Open ``path`` in this window; errors are reported, never raised.

        The message's title tells the refusals apart (not a project, damaged, newer micview, locked); a damaged
        or read-only project opens read-only (the banner says why), and the core's warnings while opening (a
        wait for another micview's write) reach the status bar as they happen.
        """
        safety = project_safety(self.session)
        safety.opening = Path(path)
        try:
            project = Project.open(path)
        except MicviewError as exc:
            self._refused(Path(path), exc)
            return False
        finally:
            safety.opening = None
        if (unreadable := _unreadable(project)) is not None:
            project.close()
            self._cannot_show(Path(path), unreadable)
            return False
        self._use(project)
        if project.read_only:
            self.session.notify(f"Opened {project.path.name} read-only: {project.read_only_reason}.")
        return True

    def open_async(self, path: str | Path, then: Callable[[bool], object] | None = None) -> Job | None:
        """:meth:`open` for the menus and the welcome page: the slow part runs as a job, the window stays live.

        A first open of the day backs the project up (seconds on a large project), an older one is upgraded, and
        another micview's write may be waited for: all that happens in :func:`background.prepare_open`, shown
        in the jobs panel. Then the project is opened here, at once (what the check found is remembered, the
        backup is made). A later request wins; ``then(opened)`` runs at the end. :meth:`open` stays synchronous.
        """
        path = Path(path)
        safety = project_safety(self.session)
        safety.opening = path  # the core's warnings while opening (a wait for a writer) belong to this window
        self.session.status(f"Opening {path.name}…", 120_000)

        def done(refused: MicviewError | None) -> None:
            if safety.opening != path:
                return  # another project was asked for meanwhile
            if refused is not None:
                safety.opening = None
                self._refused(path, refused)
                opened = False
            else:
                opened = self.open(path)
            if opened:
                self.session.status("", 1)
            if then is not None:
                then(opened)

        def stopped(*_why: str) -> None:
            if safety.opening == path:
                safety.opening = None
            if _why:
                self.session.errors.report("Cannot open the project", *_why)

        return self.session.jobs.start(f"Open {path.name}", lambda: background.prepare_open(path), pool="project",
                                       on_result=done, on_error=stopped, on_cancel=stopped)  # fmt: skip

    def _refused(self, path: Path, exc: MicviewError) -> None:
        """Say why ``path`` was not opened (the title tells the refusals apart); offer its backups if it has any."""
        safety = project_safety(self.session)
        damaged = isinstance(exc, ProjectDamagedError | NotAProjectError)  # its first bytes may be what is hit
        safety.failed = path if damaged and list_backups(path) else None
        self.session.errors.report(open_error(exc), str(exc))
        if safety.failed is not None:
            self.session.notify(f"{path.name} cannot be opened, and it has backups: restore one?",
                                (("Backups…", "backups"),))  # fmt: skip

    def create(self, path: Path) -> bool:
        try:
            project = Project.create(path)
        except (MicviewError, OSError) as exc:
            self.session.errors.report("Cannot create the project", str(exc))
            return False
        self._use(project)
        return True

    def _cannot_show(self, path: Path, error: MicviewError) -> None:
        """A project so damaged that not even its list of label tasks can be read: say so, offer the ways out."""
        project_safety(self.session).failed = path
        self.session.errors.report("The project file is damaged", f"{error} micview cannot show this project.")
        actions = (("Save what is readable…", "salvage"),) + ((("Backups…", "backups"),) if list_backups(path) else ())
        self.session.notify(f"{path.name} is too damaged to show.", actions)

    def _use(self, project: Project) -> None:
        self.session.settings.add_recent(project.path)
        self.session.set_project(project)
        from micview.gui.controllers.labelling import LabellingController
        from micview.gui.controllers.maps import MapController

        try:
            tasks = project.labels.task_names()
            LabellingController(self.session).set_task(tasks[0] if tasks else "")
            MapController(self.session).refresh()
        except Exception as exc:  # a damaged page where the tasks or the map are stored: say so, keep browsing
            if not is_damage(exc):
                raise
            project_safety(self.session).read_failed(exc)

    def close(self) -> None:
        if self.session.project is not None:
            self.session.set_project(None)

    def new_from_folder(
        self, folder: Path, project_path: Path | None = None, then: Callable[[], object] | None = None
    ) -> Job | None:
        """Create (or reopen) ``folder/<name>.micview`` and import the folder into it in the background."""
        path = project_path or folder / f"{folder.name or 'images'}{PROJECT_SUFFIX}"
        ok = self.open(path) if path.exists() else self.create(path)
        return self.add_folder(folder, then) if ok else None

    # -- adding images ----------------------------------------------------------------------------------------
    def add_folder(self, folder: Path, then: Callable[[], object] | None = None) -> Job | None:
        """Import ``folder`` in the background; ``then()`` runs once the views show the new images."""
        project = self.session.project
        name = readable(folder.name or str(folder))
        if project is None or refuse_write(self.session, f"Adding {name}"):
            return None
        path = project.path
        return self.session.jobs.start(
            f"Import {name}", lambda: background.import_folder(path, folder),
            on_result=lambda summary: self._on_import_done(summary, then),
            on_error=self._on_import_failed, on_cancel=self._on_import_cancelled,
        )  # fmt: skip

    def add_files(self, files: list[Path]) -> Job | None:
        """Import files and folders in one background pass of the importer (:func:`~micview.core.importer.add_paths`):
        per-file time limits, special files skipped without being opened, moved files keep their record."""
        project = self.session.project
        if project is None or not files or refuse_write(self.session, f"Adding {readable(files[0].name)}"):
            return None
        path = project.path
        first = readable(files[0].name or str(files[0]))
        title = f"Import {first}" + (f" and {len(files) - 1:,} more" if len(files) > 1 else "")
        return self.session.jobs.start(
            title, lambda: background.import_files(path, files),
            on_result=self._on_import_done, on_error=self._on_import_failed, on_cancel=self._on_import_cancelled,
        )  # fmt: skip

    def add_paths(self, paths: list[Path]) -> list[Job]:
        """What a drop on the window does: a project opens, a CSV's labels are read, folders and images are added
        (in one job: one summary, one notice)."""
        projects = [p for p in paths if p.suffix.lower() == PROJECT_SUFFIX]
        if projects:
            job = self.open_async(projects[0])
            return [job] if job is not None else []
        if self.session.project is None:
            self.session.errors.report("No project is open", "Open or create a project first, then drop images on it.")
            return []
        if refuse_write(self.session, "Adding what was dropped"):
            return []
        from micview.core.importer import supported_extensions
        from micview.gui.controllers.label_files import LabelFilesController

        csvs = LabelFilesController(self.session)
        jobs: list[Job | None] = [csvs.import_labels(p) for p in paths if p.suffix.lower() == ".csv"]
        images = {*supported_extensions()}
        # not only regular files: a FIFO or a device named like an image is listed as skipped, never opened
        jobs.append(self.add_files([p for p in paths if p.is_dir() or p.suffix.lower() in images]))
        unknown = [readable(p.name) for p in paths if not p.is_dir() and p.suffix.lower() not in {*images, ".csv"}]
        if unknown:
            self.session.errors.report(
                "Not added", f"{', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}: not an image format "
                "micview reads (nor a folder, a .csv of labels or a project).", popup=False,
            )  # fmt: skip
        return [j for j in jobs if j is not None]

    def _on_import_done(self, summary: Any, then: Callable[[], object] | None = None) -> None:
        if self.session.project is None:
            return
        self.session.catalog.reload(self.session.project)
        self.session.import_finished.emit(summary)
        from micview.gui.controllers.maps import MapController

        maps = MapController(self.session)
        maps.refresh()
        if then is not None:
            then()
        skipped_files(self.session).items.update(summary.skipped)
        actions: list[tuple[str, str]] = []
        if summary.errors or summary.skipped:
            actions.append(("Show the files that could not be read", "import_errors"))
        if (summary.added or summary.updated) and not self.session.map.embedding:
            if self.session.settings.embed_after_import:
                maps.embed()
            elif maps.missing_embeddings():
                actions.append(("Compute embeddings", "embed"))
        self.session.notify(import_text(summary), tuple(actions))

    def _on_import_failed(self, message: str, details: str) -> None:
        self.session.errors.report("Import failed", message, details)
        self._on_import_cancelled()

    def _on_import_cancelled(self) -> None:
        if self.session.project is not None:
            self.session.catalog.reload(self.session.project)

    def import_errors(self) -> list[tuple[str, str]]:
        """(file, reason) for every file of the project that could not be read, and every file this window's
        imports skipped (special files, paths gone), by path."""
        project = self.session.project
        if project is None:
            return []
        errors = {r.path: r.error or "unknown reason" for r in project.images.all(status="error")}
        skipped = {p: why for p, why in skipped_files(self.session).items.items() if p not in errors}
        return sorted({**errors, **skipped}.items())

    # -- the sample -----------------------------------------------------------------------------------------------
    def open_sample(self, folder: Path | None = None) -> Job | None:
        """Generate the sample images (once) into a user folder, and open them as a pre-labelled project."""
        from PySide6.QtCore import QStandardPaths

        from micview.core.sample_data import write_sample

        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        folder = folder or Path(base) / "sample"
        if not (folder / "LICENCE.txt").exists():
            write_sample(folder)
        path = folder / "sample.micview"
        then = (lambda: self._label_sample(folder)) if not path.exists() else None
        return self.new_from_folder(folder, path, then)

    def _label_sample(self, folder: Path) -> None:
        """Label two images in three so the sample has both labelled and unlabelled images to explore."""
        from micview.core.sample_data import KINDS, sample_labels
        from micview.gui.controllers.labelling import LabellingController
        from micview.gui.controllers.maps import MapController

        project = self.session.project
        if project is None:
            return
        truth = sample_labels(folder)
        LabellingController(self.session).define("structure", list(KINDS))
        rows = self.session.catalog.rows
        project.labels.set_many(
            "structure", {r.id: truth[r.name] for k, r in enumerate(rows) if k % 3 and r.name in truth}
        )
        self.session.labels_changed.emit("structure")
        MapController(self.session).embed()
