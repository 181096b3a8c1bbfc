"""micview map, export --map and watch as a user runs them (default model, generated images)."""

from __future__ import annotations

import csv
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def texture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:96, 0:96]
    wave = np.sin(2 * np.pi * (x if seed % 2 else y) / rng.uniform(6, 12))
    return (127 + 100 * wave + 10 * rng.normal(size=wave.shape)).clip(0, 255).astype(np.uint8)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """10 images with labels in task 'orient' (two classes)."""
    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    (tmp_path / "img").mkdir()
    with (tmp_path / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "orient"])
        for i in range(10):
            Image.fromarray(texture(i)).save(tmp_path / "img" / f"im{i:02d}.png")
            w.writerow([f"im{i:02d}.png", "v" if i % 2 else "h"])
    p = tmp_path / "p.micview"
    assert run(capsys, "new", p)[0] == 0
    assert run(capsys, "add", p, tmp_path / "img", "-q")[0] == 0
    assert run(capsys, "import-labels", p, tmp_path / "labels.csv", "--tasks", "orient")[0] == 0
    return p


def test_map_is_stored_reused_and_exported(project: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "map", project, "--method", "pca", "-q")
    assert code == 0 and "PCA map of 10 images with effnet-lite0" in out and "fitted" in out
    code, out, _ = run(capsys, "map", project, "--method", "pca", "-q")
    assert code == 0 and "stored map reused" in out
    code, out, _ = run(capsys, "export", project, tmp_path / "out.csv", "--map")
    assert code == 0 and "PCA map of effnet-lite0" in out
    with (tmp_path / "out.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 10 and all(r["map_x"] and r["map_y"] for r in rows)
    assert len({(r["map_x"], r["map_y"]) for r in rows}) == 10
    code, out, _ = run(capsys, "export", project, tmp_path / "plain.csv")
    assert "map_x" not in (tmp_path / "plain.csv").read_text(encoding="utf-8-sig").splitlines()[0]


def test_export_map_without_a_map_says_how_to_make_one(project: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "export", project, tmp_path / "out.csv", "--map")
    assert code == 1 and "no map" in err and "micview map" in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    "args, says", [(["--alert", "crystals>=2"], "is not understood"), (["--task", "nope"], "No task 'nope'")]
)
def test_watch_refuses_bad_options_clearly(project: Path, tmp_path: Path, capsys, args, says) -> None:
    code, _, err = run(capsys, "watch", project, tmp_path, *args)
    assert code == 1 and says in err and "Traceback" not in err


def test_watch_for_zero_seconds_is_a_usage_error(project: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["watch", str(project), str(tmp_path), "--for", "0"])
    assert exit_.value.code == 2 and "more than 0 seconds" in capsys.readouterr().err


def test_watch_of_a_missing_project_or_a_file_as_folder(project: Path, tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "watch", tmp_path / "none.micview", tmp_path)
    assert code == 1 and "no such project" in err
    code, _, err = run(capsys, "watch", project, tmp_path / "img" / "im00.png", "--for", "1")
    assert code == 1 and "is a file, not a folder" in err


@pytest.mark.slow
def test_watch_takes_in_new_images_until_its_time_is_up(project: Path, tmp_path: Path, capsys) -> None:
    assert run(capsys, "map", project, "--method", "pca", "-q")[0] == 0
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    Image.fromarray(texture(20)).save(incoming / "early.png")  # already there when the watch starts

    def later() -> None:
        time.sleep(6.0)
        Image.fromarray(texture(21)).save(incoming / "late.png")

    writer = threading.Thread(target=later)
    writer.start()
    hits = tmp_path / "hits.jsonl"
    code, out, err = run(capsys, "watch", project, incoming, "--for", "12", "--method", "pca", "--alert", "far>0",
                         "--alert", "h>=0", "--alert-log", hits, "--json")  # fmt: skip
    writer.join()
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert sorted(a["name"] for a in lines) == ["early.png", "late.png"]
    for a in lines:
        assert a["xy"] and a["guesses"][0]["task"] == "orient" and a["neighbours"]
    assert "ALERT [h>=0]" in out
    logged = [json.loads(line) for line in hits.read_text().splitlines()]
    assert {h["name"] for h in logged} == {"early.png", "late.png"} and {h["rule"] for h in logged} >= {"far>0"}
    assert "2 new images" in err and "file complete to point on the map" in err
    code, out, _ = run(capsys, "export", project, tmp_path / "out.csv", "--map")
    with (tmp_path / "out.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12 and all(r["map_x"] for r in rows)


@pytest.mark.slow
def test_ctrl_c_ends_the_watch_with_130_and_keeps_what_was_taken_in(
    project: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from micview.core.watch import folder

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    Image.fromarray(texture(30)).save(incoming / "one.png")
    real_poll, calls = folder.FolderWatcher.poll, []

    def poll(self, timeout: float = 1.0):
        calls.append(1)
        if len(calls) > 20:
            raise KeyboardInterrupt
        return real_poll(self, timeout)

    monkeypatch.setattr(folder.FolderWatcher, "poll", poll)
    code, out, err = run(capsys, "watch", project, incoming)
    assert code == 130 and "Watch stopped" in err and "Traceback" not in err
    assert "one.png" in out
    code, out, _ = run(capsys, "info", project, "--json")
    assert json.loads(out)["images"] == 11
