"""Opening a project from the menus runs its slow part (today's backup, the check, a wait for a writer) as a job,
then opens it on the GUI thread; refusals are said as the synchronous open says them; the latest request wins."""

from __future__ import annotations

import sys
from pathlib import Path

from gui_helpers import wait_job

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from safety_helpers import build_project, damage, sha

from micview.core.store import Project, list_backups


def old_project(path: Path) -> Path:
    """A project whose daily backup is due (made two days ago, never backed up)."""
    with Project.create(path) as p:
        p.set_meta("created_at", "2020-01-01T00:00:00+00:00")
    assert not list_backups(path)
    return path


def test_open_async_makes_todays_backup_in_a_job_then_opens(qtbot, window, tmp_path: Path) -> None:
    w = window
    path = old_project(tmp_path / "old.micview")
    opened: list[bool] = []
    job = w.ctl.project.open_async(path, then=opened.append)
    assert job.title == "Open old.micview" and w.project is None  # nothing done on the GUI thread yet
    wait_job(qtbot, job, 30_000)
    assert opened == [True] and w.project is not None and w.project.path == path
    assert [b.reason for b in list_backups(path)] == ["daily"]  # made by the job, once
    assert w.pages.currentIndex() == 1 and not w.project.read_only


def test_open_async_refusals_and_the_latest_request_wins(qtbot, window, tmp_path: Path) -> None:
    w = window
    junk = tmp_path / "junk.micview"
    junk.write_bytes(b"not a project at all" * 100)
    opened: list[bool] = []
    wait_job(qtbot, w.ctl.project.open_async(junk, then=opened.append), 30_000)
    assert opened == [False] and w.project is None
    assert w.session.errors.last.title == "Not a micview project"
    first, second = old_project(tmp_path / "a.micview"), old_project(tmp_path / "b.micview")
    jobs = [w.ctl.project.open_async(first), w.ctl.project.open_async(second)]
    for job in jobs:
        wait_job(qtbot, job, 30_000)
    assert w.project is not None and w.project.path == second


def test_a_damaged_project_opened_async_is_read_only_and_untouched(qtbot, window, tmp_path: Path) -> None:
    w = window
    path = build_project(tmp_path / "p.micview", n=12)
    damage(path)
    before = sha(path)
    opened: list[bool] = []
    wait_job(qtbot, w.ctl.project.open_async(path, then=opened.append), 60_000)
    assert opened == [True] and w.project.read_only and w.safety.damaged
    qtbot.waitUntil(lambda: w.banner.isVisible())
    assert w.banner.kind == "damaged" and sha(path) == before  # neither the job nor the window wrote into it
