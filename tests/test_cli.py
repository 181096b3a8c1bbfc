"""The command line as a user runs it: commands, exit codes, messages, and the full miclib round trip."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from micview.cli import main
from micview.core.store.schema import SCHEMA_VERSION


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("new", "add", "rescan", "import-labels", "info", "export"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0
        assert "usage: micview " + cmd in capsys.readouterr().out


def test_no_arguments_is_for_the_gui(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import micview.cli as cli

    called: list[list[str]] = []
    monkeypatch.setattr(cli, "_open_gui", lambda argv: called.append(list(argv)) or 0)
    assert main([]) == 0 and main(["x.micview"]) == 0
    assert called == [[], ["x.micview"]]


def test_errors_are_messages_not_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "info", tmp_path / "absent.micview")
    assert code == 1 and "no such project file" in err and "Traceback" not in err
    proj = tmp_path / "p.micview"
    assert run(capsys, "new", proj)[0] == 0
    code, _, err = run(capsys, "new", proj)
    assert code == 1 and "already exists" in err
    con = sqlite3.connect(proj)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    code, _, err = run(capsys, "info", proj)
    assert code == 1 and "newer micview" in err
    code, _, err = run(capsys, "add", tmp_path / "q.micview", tmp_path / "nowhere")
    assert code == 1


def test_small_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(3):
        Image.new("L", (20 + i, 10), i * 40).save(imgs / f"{i}.png")
    (imgs / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    proj = tmp_path / "p.micview"
    run(capsys, "new", proj)
    code, out, _ = run(capsys, "add", proj, imgs, "-q")
    assert code == 0 and "3 added" not in out and "4 added" in out and "1 could not be read" in out
    assert "bad.png" in out
    labels = tmp_path / "labels.csv"
    labels.write_text("file,outcome\n0.png,clear\n1.png,crystals\n9.png,clear\n")
    code, out, _ = run(capsys, "import-labels", proj, labels, "--tasks", "outcome")
    assert code == 0 and "2 of 3 rows matched" in out and "no image for: 9.png" in out
    code, out, _ = run(capsys, "info", proj, "--errors")
    assert re.search(r"^\s+outcome\s+2\s+0$", out, re.M) and "bad.png" in out
    out_csv = tmp_path / "out.csv"
    assert run(capsys, "export", proj, out_csv)[0] == 0
    with out_csv.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["file"], r["outcome"], r["width"]) for r in rows] == [
        ("imgs/0.png", "clear", "20"), ("imgs/1.png", "crystals", "21"), ("imgs/2.png", "", "22"),
        ("imgs/bad.png", "", ""),
    ]  # fmt: skip
    assert rows[3]["status"] == "error" and rows[3]["error"]


@pytest.mark.slow
def test_miclib_round_trip(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's acceptance command line, on the real DoITPoMS split."""
    miclib = shared_data / "miclib"
    proj = tmp_path / "p.micview"
    assert run(capsys, "new", proj)[0] == 0
    code, out, _ = run(capsys, "add", proj, miclib / "images", "-q")
    assert code == 0 and "345 added" in out and "0 could not be read" in out
    code, out, _ = run(capsys, "import-labels", proj, miclib / "manifest.csv", "--tasks", "technique,category")
    assert code == 0 and "345 of 345 rows matched" in out
    out_csv = tmp_path / "out.csv"
    assert run(capsys, "export", proj, out_csv)[0] == 0
    with out_csv.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    with (miclib / "manifest.csv").open(encoding="utf-8") as f:
        truth = {r["file"]: r for r in csv.DictReader(f)}
    assert len(rows) == 345
    for r in rows:
        t = truth[Path(r["file"]).name]
        assert r["technique"] == t["technique"] and r["category"] == t["category"]
        assert r["contributor"] == t["contributor"]  # metadata columns come along
    # qa.csv names another computer's folders (./miclib_output/images/...): a path with folders matches only
    # that path, so nothing joins until the user asks to join by file name
    code, out, _ = run(capsys, "import-labels", proj, miclib / "qa.csv", "--key", "image_local_path",
                       "--tasks", "technique")  # fmt: skip
    assert code == 0 and "0 of 19 rows matched" in out and "--match-names" in out
    code, out, _ = run(capsys, "import-labels", proj, miclib / "qa.csv", "--key", "image_local_path",
                       "--tasks", "technique", "--match-names")  # fmt: skip
    assert code == 0 and "19 of 19 rows matched" in out and "task 'technique': 0 labels written" in out


@pytest.mark.slow
def test_every_sample_format_is_imported_or_explained(shared_data: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    formats = shared_data / "formats"
    proj = tmp_path / "f.micview"
    run(capsys, "new", proj)
    assert run(capsys, "add", proj, formats, "-q")[0] == 0
    with (formats / "manifest.csv").open(encoding="utf-8") as f:
        manifest = [r["file"] for r in csv.DictReader(f)]
    con = sqlite3.connect(proj)
    rows = {Path(p).name: (s, e) for p, s, e in con.execute("SELECT path, status, error FROM images")}
    for name in manifest:
        if name.endswith(".emi"):  # the metadata half of a TIA pair: its .ser is the image
            continue
        assert name in rows, f"{name} was silently skipped"
        status, error = rows[name]
        assert status == "ok" or (status == "error" and error and name.split(".")[0] in error), (name, error)
