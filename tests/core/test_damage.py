"""Damage is found, never written into, and recoverable: 4 KB of random bytes in the middle of a real project."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from safety_helpers import build_project, damage, first_leaf, listing, sha

from micview.cli import main
from micview.core.errors import NotAProjectError, ProjectDamagedError, ReadOnlyProjectError
from micview.core.store import Project
from micview.core.store import project as project_module
from micview.core.store.integrity import check_project
from micview.core.store.salvage import salvage


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("intact") / "p.micview")


@pytest.fixture
def damaged(intact: Path, tmp_path: Path) -> Path:
    path = Path(shutil.copy2(intact, tmp_path / "p.micview"))
    damage(path)
    return path


def test_open_finds_the_damage_and_opens_read_only(damaged: Path, caplog: pytest.LogCaptureFixture) -> None:
    before = sha(damaged)
    with caplog.at_level(logging.WARNING, "micview"), Project.open(damaged) as project:
        assert project.read_only and project.health.damaged
        assert "thumbnails" in project.health.describe_damage()
        assert len(project.images.all()) == 60  # what is readable can still be browsed and exported
        with pytest.raises(ReadOnlyProjectError, match=r"damaged.*micview salvage"):
            project.labels.set([1], "quality", "bad")
    assert "is damaged" in caplog.text and "read-only" in caplog.text
    assert sha(damaged) == before


def test_cli_info_and_export_warn_and_imports_refuse_to_write(
    intact: Path, damaged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sha(damaged)
    assert main(["info", str(damaged)]) == 0
    assert "micview: warning:" in capsys.readouterr().err
    assert main(["export", str(damaged), str(tmp_path / "out.csv")]) == 0
    assert "is damaged" in capsys.readouterr().err
    assert (tmp_path / "out.csv").read_text().count("\n") == 61
    labels = tmp_path / "labels.csv"
    labels.write_text("file,quality\nimages/img_000.png,bad\n")
    assert main(["import-labels", str(damaged), str(labels)]) == 1
    assert "read-only because the project file is damaged" in capsys.readouterr().err
    assert main(["add", str(damaged), str(intact.parent / "images"), "-q"]) == 1
    assert "nothing was written" in capsys.readouterr().err
    assert sha(damaged) == before


def test_check_exit_codes_and_what_is_damaged(intact: Path, damaged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(intact)]) == 0
    assert "intact" in capsys.readouterr().out
    assert main(["check", str(damaged)]) == 1
    out = capsys.readouterr().out
    assert "DAMAGED" in out and "table 'thumbnails'" in out and "micview salvage" in out
    junk = damaged.with_name("junk.micview")
    junk.write_bytes(b"hello" * 100)
    assert main(["check", str(junk)]) == 1
    assert "not a micview project" in capsys.readouterr().err


def test_check_finds_schema_and_link_problems(intact: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy2(intact, tmp_path / "p.micview"))
    con = sqlite3.connect(path)
    con.execute("DROP TABLE notes")
    con.execute("DROP INDEX images_hash")
    con.execute(
        "INSERT INTO annotations (image_id, task, label, source, created_at) VALUES (999, 't', 'x', 'user', 'x')"
    )
    con.commit()
    con.close()
    problems = check_project(path).problems
    assert "table 'notes' is missing" in problems
    assert "index 'images_hash' is missing" in problems
    assert "1 rows of 'annotations' refer to missing rows of 'images'" in problems


def test_damage_found_while_writing_stops_all_further_writes(intact: Path, tmp_path: Path, monkeypatch) -> None:
    path = Path(shutil.copy2(intact, tmp_path / "p.micview"))
    con = sqlite3.connect(path)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'annotations'").fetchone()[0]
    page = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    damage(path, offset=(root - 1) * page)  # the labels' own table, which a label write must read
    monkeypatch.setattr(project_module, "OPEN_CHECK_BUDGET_S", 0.0)  # as if the check at open ran out of time
    monkeypatch.setattr(project_module, "_checked", {})
    monkeypatch.setattr(project_module, "quick_health", _no_check)
    with Project.open(path) as project:
        assert not project.read_only
        with pytest.raises(ProjectDamagedError, match="is damaged"):
            project.labels.set([1, 2], "quality", "bad")
        assert project.read_only
        with pytest.raises(ReadOnlyProjectError):
            project.set_meta("k", "v")


def _no_check(con, path, budget_s, *, skip=()):  # type: ignore[no-untyped-def]
    from micview.core.store.integrity import HealthReport

    return HealthReport(path, ok=True, complete=False)


def test_salvage_copies_every_readable_row_and_leaves_the_source_alone(damaged: Path, tmp_path: Path) -> None:
    before = sha(damaged)
    report = salvage(damaged, tmp_path / "rescued.micview")
    assert sha(damaged) == before
    by_name = {t.name: t for t in report.tables}
    assert by_name["images"].copied == 60 and by_name["images"].intact
    assert by_name["annotations"].copied == 60  # every label survives
    lost = by_name["thumbnails"]
    assert lost.unreadable and 0 < lost.copied < 60
    assert not report.complete and report.health is not None and report.health.ok
    with Project.open(report.dest) as rescued:
        assert not rescued.read_only
        assert len(rescued.labels.labels("quality")) == 60
        assert rescued.get_meta("salvaged_from") == str(damaged.absolute())
        rescued.labels.set([1], "quality", "bad")  # a working project again


def test_salvage_of_a_damaged_image_table_drops_what_pointed_at_lost_rows(intact: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy2(intact, tmp_path / "p.micview"))
    leaf, page_size = first_leaf(path, "images")
    damage(path, offset=(leaf - 1) * page_size)  # the leaf page holding the first image rows
    report = salvage(path, tmp_path / "rescued.micview")
    by_name = {t.name: t for t in report.tables}
    images = by_name["images"]
    assert 0 < images.copied < 60 and images.unreadable[0][0] == 1
    assert by_name["annotations"].orphans == 60 - images.copied  # labels of lost images are reported, not kept
    assert report.health is not None and report.health.ok  # no dangling links in the new file


def test_damage_in_an_index_only_is_fully_recovered(intact: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy2(intact, tmp_path / "p.micview"))
    con = sqlite3.connect(path)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_meta_1'").fetchone()[0]
    page = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    damage(path, offset=(root - 1) * page)
    assert not check_project(path).ok
    report = salvage(path, tmp_path / "rescued.micview")
    assert report.complete and report.health is not None and report.health.ok


def test_salvage_cli(damaged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["salvage", str(damaged), str(tmp_path / "new.micview")]) == 0
    out = capsys.readouterr().out
    assert "thumbnails:" in out and "unreadable row ids" in out
    assert main(["salvage", str(damaged), str(tmp_path / "new.micview")]) == 1  # never over an existing file
    assert "already exists" in capsys.readouterr().err


def test_a_damaged_header_is_told_apart_from_a_foreign_file(intact: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy2(intact, tmp_path / "p.micview"))
    with path.open("r+b") as f:
        f.seek(68)
        f.write(b"\0\0\0\0")  # the application id is gone, the tables are still there
    files = listing(tmp_path)
    with pytest.raises(ProjectDamagedError, match=r"header is damaged.*salvage"):
        Project.open(path)
    assert listing(tmp_path) == files
    foreign = tmp_path / "other.micview"
    sqlite3.connect(foreign).execute("CREATE TABLE t(x)").connection.close()
    with pytest.raises(NotAProjectError, match="another program"):
        Project.open(foreign)


def test_quick_check_at_open_stays_within_its_budget_and_goes_on_next_time(tmp_path: Path, monkeypatch) -> None:
    big = tmp_path / "big.micview"
    with Project.create(big) as project, project.transaction() as con:
        con.executemany(
            "INSERT INTO images (path, name, folder, added_at, updated_at) VALUES (?, ?, '', 'x', 'x')",
            ((f"img{i}.png", f"img{i}.png") for i in range(20_000)),
        )
    monkeypatch.setattr(project_module, "_checked", {})
    monkeypatch.setattr(project_module, "OPEN_CHECK_BUDGET_S", 0.0)
    with Project.open(big) as project:
        first = project.health
    assert first.ok and not first.complete and first.unchecked
    monkeypatch.setattr(project_module, "OPEN_CHECK_BUDGET_S", 60.0)
    with Project.open(big) as project:
        second = project.health
    assert second.ok and second.complete
    assert set(first.checked) <= set(second.checked)


@pytest.mark.shared_data
def test_a_damaged_project_of_real_micrographs(shared_data: Path, tmp_path: Path) -> None:
    """The issue's case: 345 DoITPoMS micrographs imported with `add`, then 4 KB of random bytes in the middle."""
    path = build_project(tmp_path / "miclib.micview", images=shared_data / "miclib" / "images")
    damage(path)
    before = sha(path)
    assert not check_project(path).ok
    with Project.open(path) as project:
        assert project.read_only and project.health.damaged
        with pytest.raises(ReadOnlyProjectError):
            project.require_writable()
    report = salvage(path, tmp_path / "rescued.micview")
    assert report.health is not None and report.health.ok
    with Project.open(report.dest) as rescued:
        assert len(rescued.labels.labels("quality")) + sum(t.orphans for t in report.tables) >= 345
    assert sha(path) == before


def test_a_read_that_reaches_a_damaged_page_is_reported_as_damage_not_as_a_bug(
    intact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(shutil.copy2(intact, tmp_path / "p.micview"))
    leaf, page_size = first_leaf(path, "images")
    damage(path, offset=(leaf - 1) * page_size)  # `info` lists every image, so it must read this page
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert "is damaged" in err and "micview salvage" in err and "bug" not in err
