"""One file you can copy: checkpoint on close, consistent copies while open, backups, restore."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from safety_helpers import damage, listing

from micview.cli import main
from micview.core.errors import ProjectDamagedError, ProjectError
from micview.core.store import Project
from micview.core.store import backup as backup_module
from micview.core.store.backup import backup_project, copy_project, list_backups, restore_backup
from micview.core.store.integrity import check_project
from micview.core.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION


def _labels(path: Path) -> dict[int, str]:
    """Current user labels, read with bare SQLite (immutable: nothing written, no -wal read)."""
    con = sqlite3.connect(f"{path.absolute().as_uri()}?immutable=1", uri=True)
    rows = con.execute(
        "SELECT image_id, label FROM annotations WHERE id IN "
        "(SELECT max(id) FROM annotations WHERE task = 'quality' AND source = 'user' GROUP BY image_id)"
    ).fetchall()
    con.close()
    return {i: label for i, label in rows if label is not None}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "p.micview"
    with Project.create(path) as p:
        ids = [p.images.upsert(f"img{i}.png", {"status": "ok"}) for i in range(20)]
        p.labels.set(ids, "quality", "good")
    return path


def test_a_closed_project_is_one_file_even_while_another_micview_has_it_open(path: Path, tmp_path: Path) -> None:
    gui = Project.open(path)  # e.g. the window, still open
    cli = Project.open(path)
    cli.labels.set(range(1, 11), "quality", "bad")
    cli.close()
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy2(path, alone / "p.micview")  # the main file only, as a file manager copies it
    assert sum(v == "bad" for v in _labels(alone / "p.micview").values()) == 10
    gui.close()
    assert not path.with_name("p.micview-wal").exists()


def test_copy_while_open_has_every_committed_label_and_is_one_file(path: Path, tmp_path: Path) -> None:
    with Project.open(path) as open_elsewhere:
        open_elsewhere.labels.set(range(1, 21), "quality", "bad")  # in the -wal file while it stays open
        (tmp_path / "copies").mkdir()
        dest = copy_project(path, tmp_path / "copies")
        assert dest == tmp_path / "copies" / "p.micview"
        assert listing(dest.parent) == ["p.micview"]
        assert set(_labels(dest).values()) == {"bad"}
        assert check_project(dest).ok


def test_copy_is_one_consistent_moment_while_another_connection_writes(path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(backup_module, "STEP_PAGES", 16)
    writer = sqlite3.connect(path, isolation_level=None)
    writes = []

    def write_meanwhile(done: int, total: int) -> None:
        if not writes:
            writer.execute("INSERT INTO meta VALUES ('written', 'during the copy')")
            writes.append((done, total))

    with Project.open(path) as p, p.transaction():
        for i in range(2000):  # enough pages for several backup steps
            p.images.upsert(f"more{i}.png", {"status": "ok", "metadata_json": "x" * 400})
    dest = copy_project(path, tmp_path / "c.micview", progress=write_meanwhile)
    writer.close()
    assert writes and writes[0][0] < writes[0][1]  # written while pages were still to be copied
    with Project.open(dest, read_only=True) as copy:
        assert copy.get_meta("written") is None and copy.images.count() == 2020
    assert check_project(dest).ok


def test_copy_refuses_what_it_must_not_do(path: Path, tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no such folder"):
        copy_project(path, tmp_path / "missing" / "c.micview")
    with pytest.raises(ProjectError, match="the project itself"):
        copy_project(path, path)
    (tmp_path / "c.micview").write_text("mine")
    with pytest.raises(ProjectError, match="already exists"):
        copy_project(path, tmp_path / "c")
    assert (tmp_path / "c.micview").read_text() == "mine"
    assert copy_project(path, tmp_path / "c", overwrite=True) == tmp_path / "c.micview"


def test_a_backup_is_made_before_a_format_upgrade(tmp_path: Path) -> None:
    old = tmp_path / "old.micview"
    con = sqlite3.connect(old, isolation_level=None)
    con.executescript(f"BEGIN; {MIGRATIONS[0]}{MIGRATIONS[1]} PRAGMA application_id={APPLICATION_ID}; "
                      "PRAGMA user_version=2; COMMIT;")  # fmt: skip
    con.execute("INSERT INTO meta VALUES ('created_at', '2020-01-01T00:00:00+00:00')")
    con.execute("INSERT INTO images (path, name, folder, added_at, updated_at) VALUES ('a.png', 'a.png', '', 'x', 'x')")
    con.close()
    with Project.open(old) as p:
        assert p.schema_version == SCHEMA_VERSION
    kinds = [b.kind for b in list_backups(old)]
    assert f"before-v{SCHEMA_VERSION}" in kinds
    saved = next(b for b in list_backups(old) if b.kind == f"before-v{SCHEMA_VERSION}")
    con = sqlite3.connect(saved.path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    assert con.execute("SELECT path FROM images").fetchall() == [("a.png",)]
    con.close()


def test_daily_backups_happen_at_most_daily_and_a_few_are_kept(path: Path) -> None:
    with Project.open(path) as p:
        p.set_meta("created_at", (datetime.now(UTC) - timedelta(days=5)).isoformat())
    for days in (4, 3, 2):
        backup_project(path, reason="daily", now=datetime.now(UTC) - timedelta(days=days))
    manual = backup_project(path, now=datetime.now(UTC) - timedelta(days=9))
    with Project.open(path):
        pass
    with Project.open(path):
        pass
    backups = list_backups(path)
    daily = [b for b in backups if b.kind == "daily"]
    assert len(daily) == 3 and daily[0].created > datetime.now(UTC) - timedelta(minutes=5)
    assert manual in [b.path for b in backups]  # never pruned
    assert _labels(daily[0].path) == _labels(path)


def test_a_new_project_is_not_backed_up_before_a_day_has_passed(path: Path) -> None:
    with Project.open(path):
        pass
    assert list_backups(path) == []


def test_restore_puts_a_backup_back_and_keeps_what_was_there(path: Path) -> None:
    saved = backup_project(path)
    with Project.open(path) as p:
        p.labels.set(range(1, 21), "quality", "bad")
    watcher = Project.open(path)  # another window with the project open sees the restored state
    result = restore_backup(path, saved)
    assert set(watcher.labels.labels("quality").values()) == {"good"}
    watcher.close()
    assert set(_labels(path).values()) == {"good"}
    assert result.previous is not None and set(_labels(result.previous).values()) == {"bad"}
    assert check_project(path).ok


def test_restore_repairs_a_damaged_project_and_refuses_a_damaged_backup(path: Path) -> None:
    with Project.open(path) as p, p.transaction():
        for i in range(3000):
            p.images.upsert(f"more{i}.png", {"status": "ok", "metadata_json": "x" * 300})
    good = backup_project(path)
    damage(path)
    assert not check_project(path).ok
    restore_backup(path, good)
    assert check_project(path).ok and len(_labels(path)) == 20
    bad = backup_project(path)
    damage(bad)
    with pytest.raises(ProjectDamagedError, match="damaged too"):
        restore_backup(path, bad)


def test_backup_commands(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backups", str(path)]) == 0
    assert "No backups" in capsys.readouterr().out
    assert main(["backup", str(path)]) == 0
    assert ".micview-backups" in capsys.readouterr().out
    with Project.open(path) as p:
        p.labels.set([1], "quality", "bad")
    assert main(["backups", str(path)]) == 0
    assert "manual" in capsys.readouterr().out
    assert main(["restore", str(path), "1"]) == 0
    assert "before-restore" in capsys.readouterr().out
    assert _labels(path)[1] == "good"
    assert main(["restore", str(path), "7"]) == 1
    assert "no backup number 7" in capsys.readouterr().err
    assert main(["copy", str(path), str(path.with_name("copy.micview"))]) == 0
    assert "one file" in capsys.readouterr().out
