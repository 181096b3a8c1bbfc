"""Keeping the open project safe: clear refusals of writes to a read-only project, "Check now", saving what is
readable of a damaged one, File ▸ Save a copy…, and backups (list, back up now, restore).

Every write a user can start from the window asks :func:`refuse_write` first: on a read-only project it says
what was not done and why (and what to do instead) rather than failing later or doing nothing. The long work
runs as jobs (:mod:`micview.gui.safety_jobs`) with their own SQLite connections; results go to the session and
its :class:`~micview.gui.safety.ProjectSafety`, and ``then(result)`` lets a dialog show what came of it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from micview.core.store import BackupInfo, HealthReport, Project, RestoreResult, SalvageReport, list_backups
from micview.core.store.sqlite_files import writable_reason
from micview.gui import safety_jobs
from micview.gui.safety import DAMAGED_REASON, project_safety
from micview.gui.session import Session
from micview.gui.workers import Job

Then = Callable[[Any], object] | None


def read_only_message(project: Project, doing: str) -> str:
    """“Labelling was not done: … is open read-only because …” and what to do instead."""
    reason = project.read_only_reason or "it was opened read-only"
    text = f"{doing} was not done: {project.path.name} is open read-only because {reason}."
    if reason == DAMAGED_REASON:
        return text + " Save what is readable into a new project (the button in the banner) and go on there."
    return text + " To change it, save a copy where you can write (File ▸ Save a copy…) and open the copy."


def refuse_write(session: Session, doing: str, *, popup: bool = True) -> bool:
    """True, after saying so, when the open project cannot be written; ``doing`` names the refused action."""
    project = session.project
    if project is None or not project.read_only:
        return False
    session.errors.report("The project is read-only", read_only_message(project, doing), popup=popup)
    return True


def _destination(dest: Path, source: Path, tail: str) -> Path:
    """Where a new project file goes: ``dest`` itself, or ``<name>-<tail>.micview`` in it when it is a folder."""
    if dest.is_dir():
        return dest / f"{source.stem}-{tail}.micview"
    return dest if dest.suffix == ".micview" else dest.with_name(dest.name + ".micview")


def _unwritable(folder: Path) -> str:
    """Why nothing can be written into ``folder`` (empty when it can)."""
    if not folder.is_dir():
        return f"{folder}: no such folder."
    if not os.access(folder, os.W_OK):
        return f"{folder} is read-only: choose a folder you can write to."
    return ""


def _size_text(path: Path) -> str:
    try:
        return f"{path.stat().st_size / 1e6:.1f} MB"
    except OSError:
        return "size unknown"


class SafetyController:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.state = project_safety(session)

    def _path(self) -> Path | None:
        return self.state.backups_target()

    def _failed(self, title: str) -> Callable[[str, str], object]:
        return lambda message, details: self.session.errors.report(title, message, details)

    # -- check and salvage ------------------------------------------------------------------------------------
    def check_now(self, then: Then = None) -> Job | None:
        """The full check (``micview check``) in the background; damage makes the project read-only."""
        project = self.session.project
        if project is None:
            return None
        path = project.path

        def done(report: HealthReport) -> None:
            if self.session.project is not None and self.session.project.path == path:
                self.state.set_health(report)
            if report.ok:
                n = len(report.checked)
                self.session.notify(
                    f"{path.name}: no damage found (full check of {n} tables in {report.seconds:.1f} s)."
                )
            else:
                self.session.notify(f"{path.name} is damaged: {report.describe_damage()}")
            if then is not None:
                then(report)

        return self.session.jobs.start(f"Check {path.name}", lambda: safety_jobs.check(path), on_result=done,
                                       on_error=self._failed("The check failed"))  # fmt: skip

    def salvage(self, dest: Path, then: Then = None) -> Job | None:
        """Copy every readable row of the project (open, or the one that failed to open) into ``dest``."""
        source = self._path()
        if source is None:
            return None
        dest = _destination(dest, source, "salvaged")
        if dest.absolute() == source.absolute():
            self.session.errors.report("Not salvaged", "Choose a new file: the damaged project itself stays as it is.")
            return None
        if why := _unwritable(dest.parent):
            self.session.errors.report("Not salvaged", why)
            return None

        def done(report: SalvageReport) -> None:
            self.session.notify(salvage_text(report))
            if then is not None:
                then(report)

        return self.session.jobs.start(f"Save what is readable of {source.name}",
                                       lambda: safety_jobs.salvage_into(source, dest), on_result=done,
                                       on_error=self._failed("Saving what is readable failed"))  # fmt: skip

    # -- copies and backups -------------------------------------------------------------------------------------
    def save_copy(self, dest: Path, then: Then = None) -> Job | None:
        """File ▸ Save a copy…: one consistent file, even while the project is open (its ``-wal`` included)."""
        project = self.session.project
        if project is None:
            return None
        path = project.path
        dest = _destination(dest, path, "copy")
        if why := _unwritable(dest.parent):
            self.session.errors.report("No copy saved", why)
            return None

        def done(copy: Path) -> None:
            self.session.notify(f"Saved a copy of {path.name} as {copy} ({_size_text(copy)}, one file).")
            if then is not None:
                then(copy)

        return self.session.jobs.start(f"Save a copy as {dest.name}", lambda: safety_jobs.save_copy(path, dest),
                                       on_result=done, on_error=self._failed("The copy failed"))  # fmt: skip

    def backups(self) -> list[BackupInfo]:
        path = self._path()
        return list_backups(path) if path is not None else []

    def why_no_backup(self) -> str:
        """Why "Back up now" cannot work here (empty when it can)."""
        path = self._path()
        if path is None or self.session.project is None:
            return "Open the project to back it up."
        if self.state.damaged:
            return "A backup of a damaged file would keep the damage: save what is readable instead."
        if not os.access(path.parent, os.W_OK):
            return f"The project's folder ({path.parent}) is read-only: no backup can be written beside it."
        return ""

    def why_no_restore(self) -> str:
        """Why a restore cannot work here (empty when it can)."""
        path = self._path()
        if path is None:
            return "No project."
        reason = writable_reason(path) if path.exists() else None
        return f"The project cannot be written here ({reason}): nothing can be restored into it." if reason else ""

    def back_up_now(self, then: Then = None) -> Job | None:
        path = self._path()
        if path is None or self.why_no_backup():
            self.session.errors.report("No backup made", self.why_no_backup() or "No project is open.", popup=False)
            return None

        def done(backup: Path) -> None:
            self.session.notify(f"Backed up {path.name} as {backup.name} ({_size_text(backup)}).")
            if then is not None:
                then(backup)

        return self.session.jobs.start(f"Back up {path.name}", lambda: safety_jobs.back_up(path), on_result=done,
                                       on_error=self._failed("The backup failed"))  # fmt: skip

    def restore(self, backup: BackupInfo, then: Then = None) -> Job | None:
        """Put ``backup`` back into the project: close it here, restore (what it holds now is backed up first as
        ``before-restore``), open it again."""
        path = self._path()
        if path is None or self.why_no_restore():
            self.session.errors.report("Not restored", self.why_no_restore() or "No project.")
            return None
        was_open = self.session.project is not None
        if was_open:  # nothing of this window reads the file while its content is replaced
            self.session.jobs.cancel_all()
            self.session.jobs.wait(10_000)
            self.session.set_project(None)

        def reopen() -> None:
            if was_open or path.exists():
                from micview.gui.controllers.project import ProjectController

                ProjectController(self.session).open(path)

        def done(result: RestoreResult) -> None:
            reopen()
            kept = f" What it held before is kept as the backup {result.previous.name}." if result.previous else ""
            when = backup.created.astimezone().strftime("%Y-%m-%d %H:%M")
            self.session.notify(f"Restored {path.name} from the backup of {when} ({backup.reason}).{kept}")
            if then is not None:
                then(result)

        def failed(message: str, details: str) -> None:
            reopen()
            self.session.errors.report("Not restored", message, details)

        return self.session.jobs.start(f"Restore {path.name}", lambda: safety_jobs.restore(path, backup),
                                       on_result=done, on_error=failed, on_cancel=reopen)  # fmt: skip


def salvage_text(report: SalvageReport) -> str:
    """One line about a salvage: where to, and what could not be recovered."""
    lost = [t for t in report.tables if not t.intact]
    rows = sum(t.copied for t in report.tables)
    text = f"Saved {rows:,} readable rows into {report.dest}."
    if not lost:
        return text + " Every row was recovered."
    return text + " Not recovered: " + "; ".join(t.describe() for t in lost[:3]) + (" …" if len(lost) > 3 else "")
