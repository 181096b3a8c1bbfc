"""File ▸ Save a copy… and File ▸ Backups… from the window: a copy holds every label (also those only in the -wal
file while the project is open), backups are listed, made and restored (after a confirmation), and a project that
cannot be opened any more is restored from its backups."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from gui_helpers import wait_job
from PySide6.QtWidgets import QMessageBox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from safety_helpers import build_project, damage, listing

from micview.core.store import Project, backup_project, list_backups
from micview.core.store.sqlite_files import side_file, wal_has_commits


@pytest.fixture(scope="module")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("built") / "p.micview", n=20)


@pytest.fixture
def project_copy(real_project: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(real_project.parent, folder)
    return folder / real_project.name


def click(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text() == text).click()


def relabel(w, label: str, n: int) -> dict[int, str]:
    """Label the first ``n`` images ``label`` with the keys, as a user does; the labels as the window has them."""
    s = w.session
    s.selection.set([r.id for r in s.catalog.rows[:n]])
    assert w.ctl.labelling.assign(s.task.classes.index(label))
    return s.project.labels.labels("quality")


def test_save_a_copy_while_open_holds_the_labels_still_in_the_wal(qtbot, window, project_copy, tmp_path) -> None:
    w = window
    assert w.open_project(project_copy) and w.session.task.name == "quality"
    labels = relabel(w, "bad", 10)
    assert wal_has_commits(project_copy)  # the new labels live in the -wal file while the project is open
    with Project.open(project_copy, read_only=True) as fresh:
        assert fresh.labels.labels("quality") == labels

    dest = tmp_path / "out" / "copy.micview"
    dest.parent.mkdir()
    job = w.safety_actions.ask_save_copy(dest)
    wait_job(qtbot, job)
    assert job.progress.total > 0 and job.progress.done == job.progress.total  # pages copied, as it went
    assert listing(dest.parent) == ["copy.micview"]  # one file: nothing else has to travel with it
    assert "Saved a copy" in w.notice_bar.label.text() and "one file" in w.notice_bar.label.text()
    assert w.safety_actions.offer is None  # a copy of a writable project: no question, the notice says it
    with Project.open(dest) as copy:
        assert copy.labels.labels("quality") == labels and len(copy.images.all()) == 20
    assert not side_file(dest, "-wal").exists()


def test_back_up_now_then_restore_a_backup_with_confirmation(qtbot, window, project_copy: Path) -> None:
    w, s = window, window.session
    assert w.open_project(project_copy)
    dialog = w.safety_actions.show_backups()
    assert dialog.table.rowCount() == len(list_backups(project_copy)) and dialog.backup_button.isEnabled()
    before = len(dialog.backups)
    dialog.backup_button.click()
    qtbot.waitUntil(lambda: len(dialog.backups) == before + 1, timeout=20_000)
    assert dialog.backups[0].reason == "manual" and dialog.table.item(0, 1).text() == "made by you"
    saved = s.project.labels.labels("quality")

    changed = relabel(w, "bad", 20)
    assert changed != saved
    dialog.table.selectRow(0)
    box = dialog.ask_restore()
    assert "before a restore" in box.informativeText()
    click(box, "Cancel")
    assert s.project.labels.labels("quality") == changed  # cancelled: nothing happened
    box = dialog.ask_restore()
    click(box, "Restore")
    qtbot.waitUntil(lambda: s.project is not None and s.project.labels.labels("quality") == saved, timeout=20_000)
    assert "Restored p.micview from the backup" in w.notice_bar.label.text()
    assert len(s.catalog) == 20 and not s.project.read_only and s.task.name == "quality"
    qtbot.waitUntil(lambda: any(b.kind == "before-restore" for b in dialog.backups))
    undo = next(b for b in dialog.backups if b.kind == "before-restore")
    assert dialog.table.item(dialog.backups.index(undo), 1).text() == "before a restore"
    with Project.open(undo.path, read_only=True) as kept:  # the restore itself can be undone
        assert kept.labels.labels("quality") == changed


def test_a_project_that_no_longer_opens_is_restored_from_its_backups(qtbot, window, project_copy: Path) -> None:
    w, s = window, window.session
    backup_project(project_copy)
    with Project.open(project_copy, read_only=True) as p:
        saved = p.labels.labels("quality")
    damage(project_copy, offset=16)  # its first page: micview cannot open it at all
    assert not w.open_project(project_copy)
    assert s.errors.last.title == "The project file is damaged"
    assert [b.text() for b in w.notice_bar.buttons] == ["Backups…"]
    w.notice_bar.buttons[0].click()
    dialog = w.safety_actions.backups_dialog
    assert dialog is not None and dialog.isVisible() and len(dialog.backups) == 1
    click(dialog.ask_restore(), "Restore")
    qtbot.waitUntil(lambda: s.project is not None, timeout=20_000)
    assert s.project.path == project_copy and not s.project.read_only
    assert s.project.labels.labels("quality") == saved and len(s.catalog) == 20


def test_backups_of_a_damaged_project_can_be_restored_not_made(qtbot, window, project_copy: Path) -> None:
    w = window
    damage(project_copy)
    assert w.open_project(project_copy) and w.safety.damaged
    dialog = w.banner.safety_actions.show_backups()
    assert not dialog.backup_button.isEnabled() and "keep the damage" in dialog.note.text()


def test_copies_and_salvage_to_places_that_will_not_do_say_why(qtbot, window, project_copy, tmp_path) -> None:
    from safety_helpers import read_only_folder

    w, s = window, window.session
    assert w.open_project(project_copy)
    actions = w.safety_actions
    assert actions.ask_save_copy(tmp_path / "nowhere" / "c.micview") is None
    assert s.errors.last.title == "No copy saved" and "no such folder" in s.errors.last.message
    job = actions.ask_save_copy(project_copy)
    qtbot.waitUntil(lambda: job.done)
    assert job.state == "failed" and "that is the project itself" in s.errors.last.message
    folder = tmp_path / "copies"
    folder.mkdir()
    wait_job(qtbot, actions.ask_save_copy(folder))  # a folder: the copy gets the project's name and "-copy"
    assert listing(folder) == ["p-copy.micview"]
    with read_only_folder(folder):
        assert actions.ask_save_copy(folder / "again.micview") is None
        assert "is read-only: choose a folder you can write to" in s.errors.last.message
        assert actions.ctl.salvage(folder / "rescued.micview") is None
        assert s.errors.last.title == "Not salvaged" and "read-only" in s.errors.last.message
    assert listing(folder) == ["p-copy.micview"]


def test_a_cancelled_copy_stops_at_its_next_step_and_the_job_ends_after_it(qtbot, window) -> None:
    import time

    from micview.gui.safety_jobs import with_progress

    steps: list[int] = []
    stopped: list[BaseException] = []

    def copy_in_steps(progress) -> str:
        try:
            for i in range(1000):
                steps.append(i)
                progress(i, 1000)
                time.sleep(0.005)
        except BaseException as exc:  # the core's copy removes its partial file here
            stopped.append(exc)
            raise
        return "done"

    job = window.session.jobs.start("Copy", lambda: with_progress(copy_in_steps, "Copying"))
    qtbot.waitUntil(lambda: job.progress.done > 5)
    job.cancel()
    qtbot.waitUntil(lambda: job.done)
    assert job.state == "cancelled" and len(steps) < 1000
    assert stopped and "Cancelled" in type(stopped[0]).__name__  # the work itself was stopped, not abandoned
