"""Watch mode, headless core: when a file counts as complete, the folder watcher, taking files in, alert rules."""

from __future__ import annotations

import io
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.core.file_scan import FoundFile
from micview.core.store import Project
from micview.core.watch import (
    AlertRuleError,
    Arrival,
    CommandSink,
    FolderWatcher,
    Guess,
    JsonLinesSink,
    Readiness,
    WellPoint,
    check_all,
    parse_rule,
    take,
)
from micview.core.watch.wells import WellIndex, point_lookup, trajectories


def png_bytes(seed: int, size: int = 64) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


# -- readiness: pure rules, no sleeping ---------------------------------------------------------------------------
def test_a_file_is_ready_only_after_its_size_and_mtime_stayed_the_same_for_the_settling_time():
    r = Readiness(settle_s=0.5)
    p = Path("a.tif")
    r.observe(p, 100, 1.0, now=0.0)
    assert r.ready(0.4) == []
    r.observe(p, 200, 2.0, now=0.4)  # still growing: the clock starts again
    assert r.ready(0.8) == []
    assert r.next_due(0.8) == pytest.approx(0.1)
    assert r.ready(0.9) == [FoundFile(p, 200, 2.0)]


def test_a_file_handed_out_is_not_offered_again_until_it_changes():
    r = Readiness(settle_s=0.1)
    p = Path("a.tif")
    r.observe(p, 100, 1.0, now=0.0)
    (found,) = r.ready(1.0)
    r.handed_out(found)
    r.observe(p, 100, 1.0, now=2.0)
    assert r.ready(3.0) == [] and r.pending() == []
    r.observe(p, 150, 5.0, now=4.0)  # rewritten by the instrument
    assert r.ready(5.0) == [FoundFile(p, 150, 5.0)]


def test_an_undecodable_complete_file_waits_for_a_change_or_the_give_up_time():
    r = Readiness(settle_s=0.1, give_up_s=10.0)
    p = Path("a.tif")
    r.observe(p, 100, 1.0, now=0.0)
    (found,) = r.ready(1.0)
    r.undecodable(found, now=1.0)
    assert r.ready(5.0) == [] and not r.gave_up(p, 5.0)
    assert r.ready(11.0) == [found] and r.gave_up(p, 11.0)
    r.observe(p, 120, 2.0, now=6.0)  # the writer went on: try again once it settles
    assert r.ready(6.2) == [FoundFile(p, 120, 2.0)]


# -- the watcher on a real folder ---------------------------------------------------------------------------------
def _collect(w: FolderWatcher, until: float, want: int = 10**9) -> list[FoundFile]:
    out: list[FoundFile] = []
    end = time.monotonic() + until
    while time.monotonic() < end and len(out) < want:
        look = w.poll(0.1)
        for f in look.ready:
            w.readiness.handed_out(f)
        out += look.ready
    return out


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_watcher_reports_a_slowly_written_file_once_and_only_when_complete(tmp_path, polling):
    data = png_bytes(1)
    with FolderWatcher(tmp_path, polling=polling, poll_s=0.1, settle_s=0.4) as w:
        target = tmp_path / "slow.png"
        with target.open("wb") as f:
            for k in range(0, len(data), len(data) // 5 + 1):
                f.write(data[k : k + len(data) // 5 + 1])
                f.flush()
                assert all(x.path != target for x in _collect(w, 0.15)), "reported while still being written"
        got = _collect(w, 5.0, want=1)
        assert [g.path for g in got] == [target] and got[0].size == len(data)
        assert _collect(w, 1.0) == []  # once only


def test_watcher_skips_hidden_temporary_files_and_sees_the_renamed_result(tmp_path):
    with FolderWatcher(tmp_path, poll_s=0.1, settle_s=0.2) as w:
        tmp = tmp_path / ".part.png"
        tmp.write_bytes(png_bytes(2))
        assert _collect(w, 0.6) == []
        tmp.rename(tmp_path / "done.png")
        assert [f.path.name for f in _collect(w, 5.0, want=1)] == ["done.png"]


def test_watcher_survives_the_folder_vanishing_and_coming_back(tmp_path):
    root = tmp_path / "share"
    root.mkdir()
    (root / "a.png").write_bytes(png_bytes(3))
    with FolderWatcher(root, poll_s=0.1, settle_s=0.2) as w:
        assert [f.path.name for f in _collect(w, 5.0, want=1)] == ["a.png"]
        shutil.rmtree(root)
        looks = [w.poll(0.1) for _ in range(3)]
        assert looks[0].vanished and not any(lk.vanished for lk in looks[1:])
        assert not any(lk.reachable for lk in looks)
        root.mkdir()
        (root / "a.png").write_bytes(png_bytes(3))  # the same file again, and a new one
        (root / "b.png").write_bytes(png_bytes(4))
        look = w.poll(0.1)
        assert look.returned
        got = _collect(w, 5.0, want=2)
        assert sorted(f.path.name for f in got) == ["a.png", "b.png"]  # a.png is new content (new mtime)
        (root / "c.png").write_bytes(png_bytes(5))  # events work again on the new folder
        assert [f.path.name for f in _collect(w, 5.0, want=1)] == ["c.png"]


def test_watcher_of_a_folder_that_does_not_exist_yet_waits_for_it(tmp_path):
    root = tmp_path / "later"
    with FolderWatcher(root, poll_s=0.05, settle_s=0.1) as w:
        assert not w.poll(0.05).reachable
        root.mkdir()
        (root / "x.png").write_bytes(png_bytes(6))
        assert w.poll(0.05).returned
        assert [f.path.name for f in _collect(w, 5.0, want=1)] == ["x.png"]


def test_network_shares_are_polled():
    from micview.core.watch.folder import is_network_path

    assert is_network_path(Path("//server/share/images"))
    assert FolderWatcher(Path("//server/share"), poll_s=2).mode == "polling every 2 s"


# -- taking files into the project --------------------------------------------------------------------------------
def test_take_stores_a_complete_file_and_refuses_a_truncated_one(tmp_path):
    data = png_bytes(7)
    path = tmp_path / "img.png"
    with Project.create(tmp_path / "p.micview") as project:
        path.write_bytes(data[: len(data) // 2])
        st = path.stat()
        half = take(project, FoundFile(path, st.st_size, st.st_mtime))
        assert half.why == "undecodable" and project.images.count() == 0
        path.write_bytes(data)
        st = path.stat()
        found = FoundFile(path, st.st_size, st.st_mtime)
        taken = take(project, found)
        assert taken.new and project.images.get(taken.image_id).status == "ok"
        assert project.images.thumbnail(taken.image_id) is not None
        assert take(project, found).why == "unchanged"


def test_take_stores_a_file_that_never_decodes_as_unreadable_when_asked(tmp_path):
    path = tmp_path / "bad.png"
    path.write_bytes(b"not a png at all")
    st = path.stat()
    with Project.create(tmp_path / "p.micview") as project:
        result = take(project, FoundFile(path, st.st_size, st.st_mtime), store_error=True)
        assert result.why == "unreadable"
        assert [r.status for r in project.images.all()] == ["error"]


def test_take_notices_a_file_changed_since_it_was_seen(tmp_path):
    path = tmp_path / "img.png"
    path.write_bytes(png_bytes(8))
    st = path.stat()
    with Project.create(tmp_path / "p.micview") as project:
        assert take(project, FoundFile(path, st.st_size - 1, st.st_mtime)).why == "changed"


# -- alerts ---------------------------------------------------------------------------------------------------------
def _arrival(**kw) -> Arrival:
    return Arrival(1, "/data/a.png", "a.png", **kw)


def test_alert_rules_parse_and_fire():
    score, far, far_auto, changed = (parse_rule(t) for t in ("crystals >= 0.8", "far>0.4", "far", "changed"))
    hit = _arrival(guesses=(Guess("outcome", "crystals", 0.91, "marco"),), distance=0.5, far_above=0.6)
    assert score.check(hit) and far.check(hit) and far_auto.check(hit) is None
    assert score.check(_arrival(guesses=(Guess("outcome", "crystals", 0.7, "marco"),))) is None
    well = WellPoint("P1", "A1", "1", "t2", previous_image=7, previous_label="clear")
    assert "clear → crystals" in changed.check(_arrival(guesses=hit.guesses, well=well))
    same = WellPoint("P1", "A1", "1", "t2", previous_image=7, previous_label="crystals")
    assert changed.check(_arrival(guesses=hit.guesses, well=same)) is None
    for bad in ("crystals>=1.5", "score", "far<0.3", ""):
        with pytest.raises(AlertRuleError):
            parse_rule(bad)


def test_hits_go_to_a_json_lines_file_and_to_a_command_without_a_shell(tmp_path):
    rules = [parse_rule("crystals>=0.8")]
    hits = check_all(rules, _arrival(guesses=(Guess("outcome", "crystals", 0.9, "marco"),)))
    sink = JsonLinesSink(tmp_path / "hits.jsonl")
    sink.send(hits[0])
    line = json.loads((tmp_path / "hits.jsonl").read_text())
    assert line["rule"] == "crystals>=0.8" and line["path"] == "/data/a.png"
    out = tmp_path / "from-command.json"
    script = f"import sys, os; open({str(out)!r}, 'w').write(sys.stdin.read() + os.environ['MICVIEW_HIT_PATH'])"
    cmd = CommandSink([sys.executable, "-c", script, "; rm -rf /"], timeout_s=20)  # a shell would run the rm
    cmd.send(hits[0])
    cmd.close(30)
    assert cmd.failures == []
    assert out.read_text().endswith("/data/a.png") and json.loads(out.read_text()[: -len("/data/a.png")])


def test_a_slow_alert_command_is_stopped_and_reported(tmp_path):
    cmd = CommandSink([sys.executable, "-c", "import time; time.sleep(30)"], timeout_s=0.5)
    cmd.send(check_all([parse_rule("far>0.1")], _arrival(distance=0.5))[0])
    cmd.close(20)
    assert cmd.failures and "longer than 0.5 s" in cmd.failures[0]


def test_a_missing_alert_command_is_reported_not_raised():
    cmd = CommandSink("no-such-program-micview --flag")
    cmd.send(check_all([parse_rule("far>0.1")], _arrival(distance=0.5))[0])
    cmd.close(10)
    assert "could not be started" in cmd.failures[0]


# -- wells over time --------------------------------------------------------------------------------------------
def test_a_new_time_point_joins_its_well_and_trajectories_follow_time():
    index = WellIndex("generic")
    index.add(1, "plate1/2026-01-01/A1_1.jpg")
    index.add(2, "plate1/2026-01-03/A1_1.jpg")
    index.add(3, "plate1/2026-01-01/B2_1.jpg")
    assert index.add(9, "notes/readme.jpg") is None
    key = index.add(4, "plate1/2026-01-02/A1_1.jpg")
    assert key == (("plate1", "A1", "1"), "2026-01-02")
    assert index.previous(4) == 1 and index.previous(2) == 4 and index.previous(1) is None
    points = point_lookup([1, 2, 3, 4], np.array([[0, 0], [2, 2], [5, 5], [1, 1]], np.float32))
    (traj,) = trajectories(index, points)
    assert traj.well == "A1" and traj.image_ids.tolist() == [1, 4, 2]
    assert traj.xy.tolist() == [[0, 0], [1, 1], [2, 2]]


def test_hits_for_a_file_name_that_is_not_utf8_reach_both_sinks(tmp_path):
    import os

    name = os.fsdecode(b"caf\xe9.png")
    hit = check_all([parse_rule("far>0.1")], Arrival(1, "/data/" + name, name, distance=0.9))[0]
    JsonLinesSink(tmp_path / "h.jsonl").send(hit)
    assert json.loads((tmp_path / "h.jsonl").read_text())["name"] == name
    cmd = CommandSink([sys.executable, "-c", "import sys, json; json.loads(sys.stdin.read())"], timeout_s=20)
    cmd.send(hit)
    cmd.close(30)
    assert cmd.failures == []
