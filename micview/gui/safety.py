"""The project's safety as the window sees it: read-only and why, damage found, and the core's warnings.

One :class:`ProjectSafety` per :class:`~micview.gui.session.Session`, made by :func:`project_safety` as a child
of the session (so the Session class needs no field for it, as with watch mode). It observes the session's
project and holds what the read-only banner, the menus and the write guards ask:

* ``read_only`` / ``reason`` — the project refuses writes, and why (``Project.read_only_reason``);
* ``damaged`` and :meth:`ProjectSafety.damage_text` — what the check at open, "Check now" or a read found;
* ``changed()`` after any of these change.

It also routes the core's warnings (logger ``micview.project``: opened read-only, damage found, waiting for
another micview's write) to the session's error log and status bar, from whichever thread they come; and it
learns about damage found later: by a job (a failed job whose error says the project is damaged), or by a
thumbnail read on the GUI thread. From then on the project is read-only in this window too.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from micview.core.errors import (
    MicviewError,
    NotAProjectError,
    ProjectDamagedError,
    ProjectLockedError,
    ProjectVersionError,
    ReadOnlyProjectError,
)  # fmt: skip
from micview.core.store import HealthReport, Project
from micview.core.store.integrity import damage_error

if TYPE_CHECKING:
    from micview.gui.session import Session
    from micview.gui.workers import Job

DAMAGED_REASON = "the project file is damaged"  # Project.read_only_reason of a damaged project
LOGGER = "micview.project"

# What each table holds, in a user's words, and whether micview can make it again.
PARTS = {
    "thumbnails": "thumbnails (previews; micview makes them again from the image files)",
    "embeddings": "embeddings (they can be computed again)",
    "run_arrays": "stored maps and classifier results (they can be computed again)",
    "runs": "the record of maps, classifiers and other runs",
    "annotations": "labels and predictions",
    "label_tasks": "the label tasks and their classes",
    "images": "the list of images and their metadata",
    "image_fields": "imported metadata columns",
    "answers": "answers of vision-language models",
    "notes": "notes",
    "tags": "tags",
    "meta": "the project's own settings",
}


def damaged_parts(problems: tuple[str, ...] | list[str]) -> list[str]:
    """The tables named in a check's problems, in the order found, each once."""
    found: dict[str, None] = {}
    for problem in problems:
        for table in re.findall(r"(?:table|of) '([^']+)'", problem):
            found.setdefault(table, None)
    return list(found)


def open_error(exc: MicviewError) -> str:
    """The title of the message for a project that could not be opened: what kind of refusal it is."""
    if isinstance(exc, NotAProjectError):
        return "Not a micview project"
    if isinstance(exc, ProjectVersionError):
        return "Made by a newer micview"
    if isinstance(exc, ProjectLockedError):
        return "In use by another micview"
    if isinstance(exc, ProjectDamagedError):
        return "The project file is damaged"
    if isinstance(exc, ReadOnlyProjectError):
        return "Read-only"
    return "Cannot open the project"


class _LogRelay(logging.Handler):
    """A logging handler whose records go to the GUI thread as a signal (Qt queues them across threads)."""

    def __init__(self, safety: ProjectSafety) -> None:
        super().__init__(logging.WARNING)
        self.safety = safety

    def emit(self, record: logging.LogRecord) -> None:
        path = record.args[0] if isinstance(record.args, tuple) and record.args else None
        try:
            self.safety.logged.emit(record.getMessage(), str(path) if isinstance(path, str | Path) else "",
                                    "waiting" in str(record.msg))  # fmt: skip
        except RuntimeError:  # the window is gone
            logging.getLogger(LOGGER).removeHandler(self)


class ProjectSafety(QObject):
    """Read-only, damage, and the core's warnings for one session (see the module docstring)."""

    changed = Signal()
    logged = Signal(str, str, bool)  # message, the project path it is about ("" if none), is a wait notice
    waiting = Signal(str)  # another micview's write is waited for, maybe on this thread: show it at once

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.setObjectName("project_safety")
        self.session = session
        self.found: str | None = None  # damage found after the open (by a job or a read), in words
        self.health: HealthReport | None = None  # the latest check: at open, or "Check now"
        self.opening: Path | None = None  # the project being opened (its warnings belong to this window)
        self.failed: Path | None = None  # the last project that could not be opened (its backups are offered)
        self._seen: set[str] = set()
        self._relay = _LogRelay(self)
        logging.getLogger(LOGGER).addHandler(self._relay)
        relay = self._relay
        self.destroyed.connect(lambda *_: logging.getLogger(LOGGER).removeHandler(relay))
        self.logged.connect(self._on_logged)
        session.project_changed.connect(self._on_project_changed)
        session.jobs.removed.connect(self._on_job_removed)
        session.thumbnails.on_damaged = self.read_failed
        self._on_project_changed(session.project)

    # -- what views ask ---------------------------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self.session.project

    @property
    def read_only(self) -> bool:
        return self.project is not None and self.project.read_only

    @property
    def writable(self) -> bool:
        return self.project is not None and not self.project.read_only

    @property
    def reason(self) -> str:
        project = self.project
        return (project.read_only_reason or "") if project is not None else ""

    @property
    def damaged(self) -> bool:
        project = self.project
        if project is None:
            return False
        health = self.health
        return self.found is not None or project.read_only_reason == DAMAGED_REASON or bool(health and health.damaged)

    def damage_text(self) -> str:
        """What is damaged, in a user's words (the tables, what they hold)."""
        problems = self.health.problems if self.health is not None and self.health.damaged else ()
        parts = [PARTS.get(t, f"the table '{t}'") for t in damaged_parts(problems)]
        if parts:
            return "Damaged: " + "; ".join(parts) + "."
        if self.found:
            return "Found while reading the project; “Check now” says which parts are damaged."
        return ""

    def details(self) -> str:
        """The check's own words (for a tooltip or a "details" box)."""
        lines = list(self.health.problems) if self.health is not None else []
        return "\n".join([*lines, *([self.found] if self.found else [])])

    def backups_target(self) -> Path | None:
        """The project whose backups File ▸ Backups… shows: the open one, else the one that failed to open."""
        return self.project.path if self.project is not None else self.failed

    # -- what controllers and the session report ---------------------------------------------------------------
    def set_health(self, report: HealthReport) -> None:
        """A check's result; damage makes the project read-only in this window (nothing more is written)."""
        self.health = report
        if report.damaged and self.project is not None:
            self.project.read_only_reason = DAMAGED_REASON
        self.changed.emit()

    def mark_damaged(self, message: str) -> None:
        """Damage found after the open (``message`` says where): read-only from now on, and the banner says so."""
        project = self.project
        if project is None or self.found is not None:
            return
        self.found = message
        project.read_only_reason = DAMAGED_REASON
        self.changed.emit()

    def read_failed(self, exc: BaseException) -> None:
        """A read on the GUI thread hit a damaged page (a thumbnail): say so once, go read-only.

        Said after the current event (often a paint of the grid): the window is not re-laid out mid-paint."""
        project = self.project
        error = damage_error(exc, project.path if project is not None else None)
        if error is not None and self.found is None and project is not None:
            QTimer.singleShot(0, self, lambda: self._damage_found(project, str(error)))

    def _damage_found(self, project: Project, message: str) -> None:
        if self.project is project and self.found is None:
            self.session.errors.report("The project file is damaged", message, popup=False)
            self.mark_damaged(message)

    # -- observers -------------------------------------------------------------------------------------------------
    def _on_project_changed(self, project: Project | None) -> None:
        self.found = None
        self.health = project.health if project is not None else None
        self.session.jobs.project_path = project.path if project is not None else None
        if project is None:  # kept from the opening on: a job that opens the project again repeats its warnings
            self._seen = set()
        self.changed.emit()
        if self.session.catalog.error is not None:
            self.read_failed(self.session.catalog.error)

    def _on_job_removed(self, job: Job) -> None:
        if getattr(job, "damaged", False) and job.error is not None:
            self.mark_damaged(job.error[0])

    def _on_logged(self, message: str, path: str, waiting: bool) -> None:
        """A warning of the core: shown once per project (a wait for another writer every time)."""
        mine = {p for p in (self.opening, self.project.path if self.project else None) if p is not None}
        if path and mine and Path(path).absolute() not in {p.absolute() for p in mine}:
            return  # another window's project
        if message in self._seen and not waiting:
            return
        self._seen.add(message)
        self.session.errors.report("Project", message, popup=False)
        if waiting:
            self.waiting.emit(message)


def project_safety(session: Session) -> ProjectSafety:
    """The session's :class:`ProjectSafety` (made on first use)."""
    found = session.findChild(ProjectSafety, "project_safety")
    return found if found is not None else ProjectSafety(session)


def is_damage(exc: BaseException) -> bool:
    """True for SQLite's own error about a damaged page (what :func:`damage_error` turns into a message)."""
    return isinstance(exc, sqlite3.DatabaseError) and damage_error(exc) is not None
