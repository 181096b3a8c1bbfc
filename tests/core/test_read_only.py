"""Read-only places open read-only; refusals leave nothing behind; messages tell the cases apart."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from safety_helpers import copy_into, listing, read_only_file, read_only_folder, sha

from micview.cli import main
from micview.core.errors import NotAProjectError, ProjectLockedError, ProjectVersionError, ReadOnlyProjectError
from micview.core.store import Project, check_project, copy_project
from micview.core.store import project as project_module
from micview.core.store.schema import SCHEMA_VERSION


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "p.micview"
    path.parent.mkdir()
    with Project.create(path) as p:
        ids = [p.images.upsert(f"img{i}.png", {"status": "ok"}) for i in range(5)]
        p.labels.set(ids, "quality", "good")
    return path


def test_project_in_a_read_only_folder_opens_for_info_and_export(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_into(labelled, tmp_path / "ro")
    with read_only_folder(path.parent):
        with Project.open(path) as project:
            assert project.read_only and project.read_only_reason == "its folder is read-only"
            assert project.labels.labels("quality") and project.health.ok
            with pytest.raises(ReadOnlyProjectError, match="read-only because its folder is read-only"):
                project.labels.set([1], "quality", "bad")
        assert main(["info", str(path)]) == 0
        captured = capsys.readouterr()
        assert "images" in captured.out and "read-only because its folder is read-only" in captured.err
        assert main(["export", str(path), str(tmp_path / "out.csv")]) == 0
        assert "good" in (tmp_path / "out.csv").read_text()
        assert listing(path.parent) == ["p.micview"]


def test_newest_changes_in_a_wal_on_read_only_media_are_named(labelled: Path, tmp_path: Path, caplog) -> None:
    """A project copied with its -wal (no -shm) onto read-only media: readable, and the lost part is named."""
    writer = Project.open(labelled)
    writer.labels.set([1], "quality", "bad")  # stays in the -wal while this connection is open
    folder = tmp_path / "dvd"
    copy_into(labelled, folder)
    copy_into(labelled.with_name("p.micview-wal"), folder)
    writer.close()
    with read_only_folder(folder), caplog.at_level(logging.WARNING, "micview"), Project.open(folder / "p.micview") as p:
        assert p.read_only and len(p.labels.labels("quality")) == 5
    assert "p.micview-wal" in caplog.text and "cannot be read" in caplog.text


def test_read_only_file_in_a_writable_folder(labelled: Path) -> None:
    with read_only_file(labelled), Project.open(labelled) as project:
        assert project.read_only_reason == "the file is read-only"
        with pytest.raises(ReadOnlyProjectError):
            project.set_meta("k", "v")
    assert listing(labelled.parent) == ["p.micview"]


def test_read_only_on_purpose_refuses_writes_and_leaves_one_file(labelled: Path) -> None:
    before = sha(labelled)
    with Project.open(labelled, read_only=True) as project:
        assert project.read_only
        with pytest.raises(ReadOnlyProjectError, match="on purpose"):
            project.labels.set([1], "quality", "bad")
        with pytest.raises(sqlite3.OperationalError):  # SQLite itself refuses too
            project.con.execute("DELETE FROM annotations")
    assert sha(labelled) == before and listing(labelled.parent) == ["p.micview"]


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_refused_opens_leave_no_side_files(tmp_path: Path, journal: str) -> None:
    future = tmp_path / "future.micview"
    Project.create(future).close()
    con = sqlite3.connect(future)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    con.execute(f"PRAGMA journal_mode = {journal}")
    con.close()
    junk = tmp_path / "junk.micview"
    junk.write_bytes(b"not a database" * 50)
    empty = tmp_path / "empty.micview"
    empty.touch()
    files = listing(tmp_path)
    with pytest.raises(ProjectVersionError, match="newer micview"):
        Project.open(future)
    with pytest.raises(NotAProjectError, match="not an SQLite database"):
        Project.open(junk)
    with pytest.raises(NotAProjectError, match="empty"):
        Project.open(empty)
    assert listing(tmp_path) == files


def test_a_writer_elsewhere_is_announced_after_a_moment_then_waited_for(labelled: Path, monkeypatch, caplog) -> None:
    monkeypatch.setattr(project_module, "_BUSY_NOTICE_S", 0.2)
    monkeypatch.setattr(project_module, "_BUSY_TIMEOUT_S", 20.0)
    other = sqlite3.connect(labelled, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another micview in the middle of a write
    released: list[float] = []

    def release() -> None:
        released.append(time.time())
        other.execute("COMMIT")

    timer = threading.Timer(1.5, release)
    with Project.open(labelled) as project, caplog.at_level(logging.WARNING, "micview"):
        timer.start()
        project.set_meta("note", "written after the other writer finished")
        assert project.get_meta("note")
    timer.join()
    other.close()
    notice = [r for r in caplog.records if "another micview" in r.getMessage()]
    assert notice and notice[0].created < released[0]  # said while still waiting, not after


def test_a_writer_that_never_finishes_gives_a_clear_error(labelled: Path, monkeypatch) -> None:
    monkeypatch.setattr(project_module, "_BUSY_NOTICE_S", 0.1)
    monkeypatch.setattr(project_module, "_BUSY_TIMEOUT_S", 0.5)
    other = sqlite3.connect(labelled, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with Project.open(labelled) as project:
            with pytest.raises(ProjectLockedError, match=r"kept this project locked.*nothing was written"):
                project.labels.set([1], "quality", "bad")
            assert project.labels.labels("quality")[1] == "good"
    finally:
        other.close()


@pytest.mark.parametrize("folder", ["we?ird#dir %20", os.fsdecode(b"bad\xffname")])
def test_non_utf8_and_uri_special_names_open(labelled: Path, tmp_path: Path, folder: str) -> None:
    if os.name == "nt" and "\udcff" in folder:
        pytest.skip("Windows names are Unicode")
    weird = tmp_path / folder / "p.micview"
    weird.parent.mkdir()
    shutil.copy2(labelled, weird)
    with Project.open(weird) as project:
        project.set_meta("k", "v")
    assert listing(weird.parent) == ["p.micview"]
    assert copy_project(weird, weird.with_name("c.micview")).is_file()
    assert check_project(weird).ok


def test_a_new_project_in_a_read_only_folder_is_refused_plainly(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    with read_only_folder(folder), pytest.raises(ReadOnlyProjectError, match="is read-only; create the project"):
        Project.create(folder / "p.micview")
