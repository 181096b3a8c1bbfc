"""Fewer dead ends: tasks list/rename/remove, models remove, --label that names nothing, tables, sorted exports."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from micview.cli import main
from micview.cli._plate_cmds import PRESET_EXAMPLES
from micview.core.plates import PRESETS, parse_path
from micview.core.store import Prediction, Project


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def proj(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Images img1, img2, img10 (added in that order), labelled through a CSV whose `organisation` column is
    taken for a task, as `import-labels` without --tasks does."""
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in (10, 2, 1):
        Image.new("L", (8, 8), i * 20).save(imgs / f"img{i}.png")
    path = tmp_path / "p.micview"
    run(capsys, "new", path)
    assert run(capsys, "add", path, imgs, "-q", "--workers", "1")[0] == 0
    labels = tmp_path / "labels.csv"
    rows = ["file,phase,organisation", "img1.png,ferrite,Cambridge", "img2.png,ferrite,Cambridge",
            "img10.png,=pearlite,Oxford"]  # fmt: skip
    labels.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert run(capsys, "import-labels", path, labels, "--tasks", "phase,organisation")[0] == 0
    return path


def test_tasks_list_rename_remove(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tasks", proj)
    assert code == 0
    assert re.search(r"^organisation\s+3\s+0\s+3\s+Cambridge, Oxford$", out, re.M), out
    assert re.search(r"^phase\s+3\s+0\s+3\s+=pearlite, ferrite$", out, re.M), out

    code, out, _ = run(capsys, "tasks", proj, "rename", "phase", "microstructure")
    assert code == 0 and "Renamed task 'phase' to 'microstructure'" in out
    code, _, err = run(capsys, "tasks", proj, "rename", "microstructure", "organisation")
    assert code == 1 and "already a task 'organisation'" in err
    code, _, err = run(capsys, "tasks", proj, "rename", "nope", "x")
    assert code == 1 and "No task 'nope'" in err and "microstructure" in err
    with Project.open(proj) as p:
        assert sorted(p.labels.labels("microstructure").values()) == ["=pearlite", "ferrite", "ferrite"]
        assert p.labels.labels("phase") == {}


def test_remove_asks_then_backs_up(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tasks", proj, "remove", "organisation")
    assert code == 1 and "--yes" in out and "3 labels" in out
    with Project.open(proj) as p:
        assert len(p.labels.labels("organisation")) == 3  # nothing removed without --yes

    code, out, _ = run(capsys, "tasks", proj, "remove", "organisation", "--yes")
    assert code == 0 and "Removed task 'organisation'" in out
    backups = list(proj.parent.glob("p.task-organisation-removed-*.csv"))
    assert len(backups) == 1 and "import-labels" in out and str(backups[0].name) in out
    with Project.open(proj) as p:
        assert "organisation" not in p.labels.task_names()
    # The backup brings the labels back through the ordinary import.
    code, out, _ = run(capsys, "import-labels", proj, backups[0], "--tasks", "organisation")
    assert code == 0 and "3 of 3 rows matched" in out
    with Project.open(proj) as p:
        assert sorted(p.labels.labels("organisation").values()) == ["Cambridge", "Cambridge", "Oxford"]


def test_remove_keeping_the_column_as_metadata(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tasks", proj, "remove", "organisation", "--yes", "--keep-as-field")
    assert code == 0 and "metadata column 'organisation'" in out
    out_csv = proj.parent / "out.csv"
    assert run(capsys, "export", proj, out_csv)[0] == 0
    with out_csv.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["organisation"] for r in rows] == ["Cambridge", "Cambridge", "Oxford"]
    assert "organisation_pred" not in rows[0]


def test_export_rows_are_sorted_by_file(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv = proj.parent / "out.csv"
    assert run(capsys, "export", proj, out_csv)[0] == 0
    with out_csv.open(encoding="utf-8-sig") as f:
        files = [r["file"] for r in csv.DictReader(f)]
    assert files == ["imgs/img1.png", "imgs/img2.png", "imgs/img10.png"]  # added as 10, 2, 1


def test_info_prints_tables(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", proj)
    assert code == 0 and "{" not in out and "'" not in out
    assert "images: 3 (3 ok)" in out and "formats: 3 PNG" in out
    assert re.search(r"^\s+phase\s+3\s+0$", out, re.M), out
    code, out, _ = run(capsys, "info", proj, "--json")
    assert json.loads(out)["tasks"]["phase"] == {"labels": 3, "predictions": 0}


def test_similar_label_that_names_nothing(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "similar", proj, "img1.png", "--label", "phsae=ferrite")
    assert code == 1 and "No task 'phsae'" in err and "phase" in err
    code, _, err = run(capsys, "similar", proj, "img1.png", "--label", "phase=ferite")
    assert code == 1 and "No image has the label 'ferite' for task 'phase'" in err and "ferrite" in err
    code, _, err = run(capsys, "search", proj, "text", "--label", "phase")
    assert code == 1 and "TASK=VALUE" in err
    code, _, err = run(capsys, "similar", proj, "img1.png", "--folder", "nowhere")
    assert code == 1 and "under the folder 'nowhere'" in err


@pytest.mark.parametrize("args", [["-k", "0"], ["-k", "-2"], ["-k", "x"]])
def test_numbers_that_make_no_sense_are_usage_errors(
    proj: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["similar", str(proj), "img1.png", *args])
    assert exc.value.code == 2
    assert "-k" in capsys.readouterr().err


def test_models_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    folder = tmp_path / "myclip"
    folder.mkdir()
    (tmp_path / "config").mkdir()
    entry = {"family": "open_clip", "dim": 512, "has_text": True, "description": "test", "path": str(folder)}
    (tmp_path / "config" / "models.json").write_text(json.dumps({"models": {"myclip": entry}}))
    code, out, _ = run(capsys, "models", "list")
    assert "myclip" in out
    code, _, err = run(capsys, "models", "remove", "effnet-lite0")
    assert code == 1 and "built in" in err
    code, _, err = run(capsys, "models", "remove", "nope")
    assert code == 1 and "Added models: myclip" in err
    code, out, _ = run(capsys, "models", "remove", "myclip")
    assert code == 0 and "Removed 'myclip'" in out and str(folder) in out
    assert folder.is_dir()  # the user's files stay
    assert "myclip" not in run(capsys, "models", "list")[1]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_plates_help_examples_parse_with_their_preset(preset: str) -> None:
    example = PRESET_EXAMPLES[preset].split("  (")[0]
    parsed = parse_path(example, PRESETS[preset].compiled())
    assert not isinstance(parsed, str), (preset, example, parsed)


def test_plates_help_names_an_example_for_each_preset(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["plates", "--help"])
    out = capsys.readouterr().out
    for preset, example in PRESET_EXAMPLES.items():
        assert f"{preset}" in out and example.split("  (")[0] in out


def test_plate_walk_through(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's plate commands on drop images named as an imager names them (scores stored directly)."""
    plate = tmp_path / "drops" / "plate7" / "2026-11-23"
    plate.mkdir(parents=True)
    for well in ("A1", "A2", "B12"):
        Image.new("RGB", (32, 24), (100, 120, 140)).save(plate / f"{well}_1.jpg")
    proj = tmp_path / "drops.micview"
    run(capsys, "new", proj)
    assert run(capsys, "add", proj, tmp_path / "drops", "-q", "--workers", "1")[0] == 0
    with Project.open(proj) as p:
        preds = [
            Prediction(i, "crystals", 0.9, {"crystals": 0.9, "clear": 0.1})
            for i in p.images.ids_by_stored_path().values()
        ]
        p.labels.add_predictions("outcome", preds, model_id="marco")
    code, out, _ = run(capsys, "plates", proj)
    assert code == 0 and re.search(r"^plate7\s+96\s+3\s+93\s+1\s+1\s+3$", out, re.M), out
    code, out, _ = run(
        capsys, "plate-export", proj, tmp_path / "p7.csv", "--plate", "plate7", "--png", tmp_path / "p7.png"
    )
    assert code == 0 and "Wrote 3 rows" in out and (tmp_path / "p7.png").stat().st_size > 0
    with (tmp_path / "p7.csv").open(encoding="utf-8-sig") as f:
        assert [(r["well"], r["outcome_pred"]) for r in csv.DictReader(f)] == [
            ("A1", "crystals"), ("A2", "crystals"), ("B12", "crystals")]  # fmt: skip
    # Unwritable outputs: a message and exit 1, the CSV and the PNG alike.
    code, _, err = run(capsys, "plate-export", proj, tmp_path / "no" / "p.csv", "--plate", "plate7")
    assert code == 1 and "does not exist" in err
    code, _, err = run(capsys, "plate-export", proj, tmp_path / "p.csv", "--plate", "plate7", "--png", tmp_path)
    assert code == 1 and "it is a folder" in err
    assert not (tmp_path / "p.csv").exists()  # the PNG's problem is found before the CSV is written


def test_marco_messages_name_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MICVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MICVIEW_MARCO_PYTHON", raising=False)
    proj = tmp_path / "drops.micview"
    run(capsys, "new", proj)
    code, _, err = run(capsys, "score", proj)
    assert code == 1 and "micview models add marco --python PATH" in err
    code, _, err = run(capsys, "models", "add", "marco", "--python", tmp_path / "no-python")
    assert code == 1 and "micview models add marco --python" in err
