"""Damaged and read-only projects in the window: opened read-only with a banner that says why, every write refused
visibly, what still works (browsing, exports elsewhere), and the ways on: save what is readable, save a copy."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from gui_helpers import wait_job
from PySide6.QtWidgets import QMessageBox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from safety_helpers import build_project, damage, listing, read_only_folder, sha

from micview.core.store import Project


@pytest.fixture(scope="module")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 images imported as ``micview add`` does, 30 labelled good and 30 bad (built once, copied per test)."""
    return build_project(tmp_path_factory.mktemp("built") / "p.micview")


@pytest.fixture
def project_copy(real_project: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(real_project.parent, folder)
    return folder / real_project.name


def labels_on_disk(path: Path) -> dict[int, str]:
    with Project.open(path, read_only=True) as project:
        return project.labels.labels("quality")


def click(box: QMessageBox, text: str) -> None:
    next(b for b in box.buttons() if b.text() == text).click()


def refuses(w, do, words: str) -> None:
    """``do()`` changes nothing and the window says that the project is read-only, naming ``words``."""
    before = len(w.session.errors.entries)
    result = do()
    assert result in (None, False, 0, [])
    entry = w.session.errors.last
    assert len(w.session.errors.entries) > before and entry is not None
    assert "read-only" in entry.message and words in entry.message, entry.message


def test_a_damaged_project_opens_read_only_with_a_banner_and_refuses_writes(qtbot, window, project_copy: Path,
                                                                            tmp_path: Path) -> None:  # fmt: skip
    w, s = window, window.session
    damage(project_copy)  # 4 KB of random bytes into the middle of a real project
    before, labels = sha(project_copy), labels_on_disk(project_copy)
    assert w.open_project(project_copy)
    assert s.project.read_only and w.safety.damaged
    qtbot.waitUntil(lambda: w.banner.isVisible())
    assert w.banner.kind == "damaged" and "damaged" in w.banner.title.text()
    assert "thumbnails" in w.banner.text.text() and "table 'thumbnails'" in w.banner.toolTip()
    assert all(b.isVisible() for b in (w.banner.salvage_button, w.banner.check_button, w.banner.backups_button))
    assert "read-only" in w.notice_bar.label.text()
    assert len(s.catalog) == 60  # browsing works
    for row in s.catalog.rows:  # the grid's thumbnails, one of them on the damaged page: no traceback
        s.thumbnails.get(row.id)
    assert not any(a.isEnabled() for a in w.menus.need_writable)

    s.selection.set([s.catalog.rows[0].id, s.catalog.rows[1].id])
    assert s.task.name == "quality"
    refuses(w, lambda: None if w.ctl.labelling.assign(0) and s.undo_stack.count() == 0 else 1, "Labelling")
    refuses(w, lambda: w.ctl.labelling.define("new", ["a", "b"]), "Defining the task")
    refuses(w, lambda: w.ctl.project.add_folder(tmp_path), "Adding")
    refuses(w, lambda: w.ctl.project.add_paths([tmp_path / "x.png"]), "Adding")
    refuses(w, lambda: w.ctl.label_files.import_labels(tmp_path / "labels.csv"), "Importing labels")
    refuses(w, w.ctl.maps.embed, "Computing embeddings")
    refuses(w, lambda: w.ctl.plates.score_well("A1", [s.catalog.rows[0].id], "crystals", lambda _w: None),
            "Scoring well A1")  # fmt: skip
    from micview.gui.controllers.classify import Request
    from micview.gui.controllers.watch import WatchController

    refuses(w, lambda: w.ctl.classify.run(Request("quality", "effnet-lite0")), "Classifying")
    refuses(w, lambda: WatchController(s).start(tmp_path), "Watching")
    assert "No embeddings" in s.map.message and "read-only" in s.map.message and not s.map.action

    wait_job(qtbot, w.ctl.label_files.export(tmp_path / "out.csv", "all"))  # exports to elsewhere still work
    assert len((tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()) == 61

    w.session.set_project(None)
    assert sha(project_copy) == before and labels_on_disk(project_copy) == labels  # nothing was written into it


def test_check_now_and_save_what_is_readable_then_open_it(qtbot, window, project_copy: Path, tmp_path: Path) -> None:
    w, s = window, window.session
    damage(project_copy)
    assert w.open_project(project_copy)
    w.banner.check_button.click()
    assert w.banner.check_button.text() == "Checking…"
    qtbot.waitUntil(lambda: w.banner.check_button.isEnabled(), timeout=30_000)
    assert s.project.read_only and w.safety.health.complete and w.safety.health.damaged
    assert "is damaged" in w.notice_bar.label.text()

    dest = tmp_path / "out" / "rescued.micview"
    dest.parent.mkdir()
    job = w.banner.safety_actions.ask_salvage(dest)
    wait_job(qtbot, job)
    assert job.progress.message.startswith("Saving what is readable")
    assert listing(dest.parent) == ["rescued.micview"]  # no half-written file left beside it
    offer = w.banner.safety_actions.offer
    assert offer is not None and "readable rows into" in offer.text() and "rescued.micview" in offer.text()
    click(offer, "Open it")
    assert s.project.path == dest and not s.project.read_only and not w.banner.isVisible()
    assert s.project.labels.labels("quality") == labels_on_disk(project_copy)  # every label came through
    assert all(a.isEnabled() for a in w.menus.need_writable)


def test_a_project_in_a_read_only_folder_opens_read_only(qtbot, window, project_copy: Path, tmp_path: Path) -> None:
    w, s = window, window.session
    folder = project_copy.parent
    files = listing(folder)
    with read_only_folder(folder):
        assert w.open_project(project_copy)
        assert s.project.read_only and not w.safety.damaged
        qtbot.waitUntil(lambda: w.banner.isVisible())
        assert w.banner.kind == "read_only"
        assert w.banner.title.text() == "This project is open read-only because its folder is read-only."
        assert w.banner.copy_button.isVisible() and not w.banner.salvage_button.isVisible()
        assert not any(a.isEnabled() for a in w.menus.need_writable)
        assert any("opened read-only because its folder is read-only" in e.message for e in s.errors.entries)
        s.selection.set([s.catalog.rows[0].id])
        refuses(w, lambda: None if w.ctl.labelling.assign(1) and s.undo_stack.count() == 0 else 1, "Save a copy")
        vqa = w.side_panel.panel_named("VQA")
        vqa.question.setPlainText("What phase is this?")
        vqa._on_ask_clicked()  # refused before any model runs: the answer could not be stored
        assert "Asking the model was not done" in vqa.status.text() and "read-only" in vqa.status.text()
        out = tmp_path / "selection.csv"
        wait_job(qtbot, w.ctl.label_files.export(out, "selection"))
        rows = out.read_text(encoding="utf-8-sig").splitlines()
        assert len(rows) == 2 and rows[1].startswith(s.catalog.rows[0].path)

        job = w.banner.safety_actions.ask_save_copy(tmp_path / "work")  # the suffix is added
        wait_job(qtbot, job)
        offer = w.banner.safety_actions.offer
        assert offer is not None and "can be changed" in offer.text()
        click(offer, "Open it")
        assert s.project.path == tmp_path / "work.micview" and not s.project.read_only
        assert s.project.labels.labels("quality") == labels_on_disk(project_copy)
        assert listing(folder) == files  # no -wal, -shm or backups folder left in the read-only place


def test_a_read_that_reaches_a_damaged_page_in_a_job_says_damaged_not_a_bug(qtbot, window, project_copy) -> None:
    w, s = window, window.session
    assert w.open_project(project_copy) and not s.project.read_only

    def read_damaged_page():
        yield from ()
        raise sqlite3.DatabaseError("database disk image is malformed")

    job = s.jobs.start("Read", read_damaged_page)
    qtbot.waitUntil(lambda: job.done)
    message, details = job.error
    assert job.damaged and details == ""  # not reported as a bug with a traceback
    assert str(project_copy) in message and "micview check" in message and "micview salvage" in message
    assert s.project.read_only and w.safety.damaged and w.banner.isVisible()
    refuses(w, w.ctl.maps.embed, "damaged")


def test_open_messages_tell_the_refusals_apart(qtbot, window, project_copy: Path, tmp_path: Path) -> None:
    w, s = window, window.session
    junk = tmp_path / "junk.micview"
    junk.write_bytes(b"not a database" * 50)
    newer = tmp_path / "newer.micview"
    shutil.copy(project_copy, newer)
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 99")
    con.close()
    first_page = tmp_path / "first.micview"
    shutil.copy(project_copy, first_page)
    damage(first_page, offset=16)  # the header's magic survives, the rest of the first page does not
    gone = tmp_path / "gone.micview"
    expected = {junk: "Not a micview project", newer: "Made by a newer micview",
                first_page: "The project file is damaged", gone: "Cannot open the project"}  # fmt: skip
    for path, title in expected.items():
        assert not w.open_project(path)
        assert s.errors.last.title == title, (path, s.errors.last)
        assert s.project is None and w.pages.currentIndex() == 0
    assert "newer micview" in w.session.errors.entries[-3].message and not w.notice_bar.buttons


def test_a_project_too_damaged_to_show_is_refused_with_the_ways_out(qtbot, window, project_copy, tmp_path) -> None:
    w, s = window, window.session
    damage(project_copy, offset=100)  # the first page's b-tree: not even the list of tables can be read
    assert not w.open_project(project_copy)
    assert s.project is None and s.errors.last.title == "The project file is damaged"
    assert "micview cannot show this project" in s.errors.last.message
    assert [b.text() for b in w.notice_bar.buttons] == ["Save what is readable…"]  # no backups to offer
    job = w.safety_actions.ask_salvage(tmp_path / "rescued.micview")
    qtbot.waitUntil(lambda: job.done, timeout=20_000)
    last = s.errors.last
    assert last.title == "Saving what is readable failed" and "nothing can be salvaged" in last.message
    assert not (tmp_path / "rescued.micview").exists()


def test_a_writer_elsewhere_is_announced_in_the_status_bar_then_a_clear_refusal(qtbot, window, project_copy,
                                                                               monkeypatch) -> None:  # fmt: skip
    from micview.core.store import project as project_module

    w, s = window, window.session
    assert w.open_project(project_copy)
    monkeypatch.setattr(project_module, "_BUSY_NOTICE_S", 0.1)
    monkeypatch.setattr(project_module, "_BUSY_TIMEOUT_S", 0.6)
    other = sqlite3.connect(project_copy, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another micview in the middle of a long write
    try:
        s.selection.set([s.catalog.rows[0].id])
        w.ctl.labelling.assign(0)
    finally:
        other.close()
    messages = [e.message for e in s.errors.entries]
    assert any("another micview" in m and "waiting" in m for m in messages)  # said while it waited
    assert s.errors.last.title == "The labels were not saved" and "locked" in s.errors.last.message
    assert s.undo_stack.count() == 0 and not s.project.read_only  # no undo step for a write that did not happen
    assert w.ctl.labelling.assign(0) and s.undo_stack.count() == 1  # the lock is gone: labelling works again


def test_warnings_about_another_windows_project_are_not_shown_here(qtbot, window, project_copy, tmp_path) -> None:
    import logging

    w, s = window, window.session
    assert w.open_project(project_copy)
    log = logging.getLogger("micview.project")
    log.warning("%s: opened read-only because its folder is read-only", tmp_path / "other.micview")
    log.warning("%s: something about this project", project_copy)
    log.warning("%s: something about this project", project_copy)  # once is enough
    qtbot.wait(50)
    shown = [e.message for e in s.errors.entries]
    assert not any("other.micview" in m for m in shown)
    assert sum("something about this project" in m for m in shown) == 1


def test_a_damaged_read_anywhere_on_the_gui_thread_is_no_bug_report(qtbot, qapp, tmp_path, monkeypatch) -> None:
    """The last line of defence (the uncaught-error hook): a damaged page is named, and no crash log is written."""
    from PySide6.QtWidgets import QApplication

    from micview.gui import crash

    monkeypatch.setenv("MICVIEW_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(crash, "_installed", {})
    monkeypatch.setattr(crash, "_fault_file", lambda: None)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(crash.threading, "excepthook", crash.threading.excepthook)
    log = crash.install_crash_dialog(["p.micview"])
    try:
        try:
            raise sqlite3.DatabaseError("database disk image is malformed")
        except sqlite3.DatabaseError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)

        def shown() -> list[QMessageBox]:
            return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]

        qtbot.waitUntil(lambda: len(shown()) == 1)
        box = shown()[0]
        assert box.windowTitle() == "The project file is damaged" and "micview salvage" in box.text()
        assert "bug" not in box.text() and not list(tmp_path.glob("crash-*.log"))
        box.close()
    finally:
        for handler in list(crash.logging.getLogger("micview").handlers):
            if getattr(handler, "baseFilename", None) == str(log):
                crash.logging.getLogger("micview").removeHandler(handler)
                handler.close()
