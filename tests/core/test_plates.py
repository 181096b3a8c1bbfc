"""Plate names: presets, tricky well names, layouts, missing wells, unparsed files; per-plate export."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.core.csv_io import read_csv
from micview.core.importer import add_folder
from micview.core.plate_export import export_plate_csv
from micview.core.plate_map import COLOURS, _tint, export_plate_png
from micview.core.plates import (
    PlateError,
    index_plates,
    natural_key,
    normalise_well,
    project_plates,
    remember_pattern,
)
from micview.core.store import Project
from micview.core.store.annotations import Prediction
from micview.core.tasks import run_task

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from plate_images import write_plate


def _index(paths: list[str], pattern: str, layout: int | None = None):  # type: ignore[no-untyped-def]
    return index_plates(list(enumerate(paths, start=1)), pattern, layout)


def _drops(index, plate: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(d.well, d.drop, d.time) for d in index.plate(plate).drops]


@pytest.mark.parametrize(
    ("text", "well"),
    [("A01", "A1"), ("a1", "A1"), ("h12", "H12"), ("P24", "P24"), ("B007", "B7"), ("A0", None), ("Q1", None),
     ("AA1", None), ("12", None)],
)  # fmt: skip
def test_normalise_well(text: str, well: str | None) -> None:
    assert normalise_well(text) == well


def test_rockmaker_store_uses_well_numbers_and_skips_thumbnails() -> None:
    base = "RockMakerStorage/WellImages/539/plateID_14539/batchID_{b}/wellNum_{n}/profileID_1/d{d}_r{r}_{t}.jpg"
    paths = [
        base.format(b=72673, n=1, d=1, r=10, t="ef"),
        base.format(b=72673, n=13, d=2, r=10, t="ef"),  # 13th well of a 96-well plate: B1
        base.format(b=72673, n=96, d=3, r=10, t="ef"),
        base.format(b=72673, n=13, d=2, r=999, t="th"),  # thumbnail: not a drop image
        base.format(b=72700, n=1, d=1, r=11, t="ef"),
    ]
    index = _index(paths, "rockmaker")
    assert _drops(index, "14539") == [("A1", "1", "72673"), ("A1", "1", "72700"), ("B1", "2", "72673"),
                                      ("H12", "3", "72673")]  # fmt: skip
    assert [p for p, _ in index.unparsed] == [paths[3]]


def test_formulatrix_export_names() -> None:
    paths = ["exp/RB0012345/1045_3/images/a01_1_ef.jpg", "exp/RB0012345/1045_3/B12_2.jpg",
             "exp/RB0012345/1045_10/B12_2.jpg", "exp/RB0012345/1045_3/overview.jpg"]  # fmt: skip
    index = _index(paths, "formulatrix")
    assert _drops(index, "RB0012345") == [("A1", "1", "3"), ("B12", "2", "3"), ("B12", "2", "10")]
    assert index.unparsed == [(paths[3], "the name does not match the plate pattern")]


def test_minstrel_names_with_time_stamps() -> None:
    paths = ["CS-0042_A01_1_20240105-143000.jpg", "CS-0042_a01_1_20240112-090000_vis.jpg",
             "CS-0042_H12_3_20240105T143000.jpg"]  # fmt: skip
    index = _index(paths, "minstrel")
    assert _drops(index, "CS-0042") == [("A1", "1", "20240105-143000"), ("A1", "1", "20240112-090000"),
                                        ("H12", "3", "20240105T143000")]  # fmt: skip


def test_generic_a01_and_a1_are_one_well_and_folder_is_the_plate() -> None:
    paths = ["plate2/2024-01-05/A01_1.jpg", "plate2/2024-01-05/A1_d2.jpg", "plate2/2024-01-12/a01-1.png",
             "plate10/C3.tif", "plate2/notes.jpg"]  # fmt: skip
    index = _index(paths, "generic")
    assert list(index.plates) == ["plate2", "plate10"]  # natural order
    assert _drops(index, "plate2") == [("A1", "1", "2024-01-05"), ("A1", "1", "2024-01-12"), ("A1", "2", "2024-01-05")]
    assert _drops(index, "plate10") == [("C3", "1", "")]
    assert [p for p, _ in index.unparsed] == ["plate2/notes.jpg"]


def test_layouts_384_auto_and_invalid_wells_listed() -> None:
    paths = ["big/P24_1.jpg", "big/A1_1.jpg", "small/I13.jpg", "small/H12.jpg"]
    auto = _index(paths, "generic")
    assert auto.plate("big").layout == 384 and auto.plate("small").layout == 384
    fixed = _index(paths, "generic", layout=96)
    assert _drops(fixed, "small") == [("H12", "1", "")]
    reasons = dict(fixed.unparsed)
    assert reasons["small/I13.jpg"] == "well I13 is outside a 96-well plate"
    assert reasons["big/P24_1.jpg"] == "well P24 is outside a 96-well plate"
    assert _drops(_index(["p/D6.jpg", "p/A1.jpg"], "generic", 24), "p") == [("A1", "1", ""), ("D6", "1", "")]


def test_missing_wells() -> None:
    plate = _index(["p/A1.jpg", "p/A2.jpg", "p/H12.jpg"], "generic", 96).plate("p")
    missing = plate.missing_wells()
    assert len(missing) == 93 and missing[:2] == ["A3", "A4"] and "H12" not in missing


def test_custom_regex_with_row_and_col_groups() -> None:
    index = _index(["scan/r02c11_t3.jpg"], r"(?P<plate>[^/]+)/r(?P<row>\d+)c(?P<col>\d+)_t(?P<time>\d+)")
    assert _drops(index, "scan") == [("B11", "1", "3")]


@pytest.mark.parametrize("pattern", [r"(?P<plate>[^/]+)/x", r"(unclosed"])
def test_bad_patterns_are_user_errors(pattern: str) -> None:
    with pytest.raises(PlateError):
        _index(["a/A1.jpg"], pattern)


def test_unknown_plate_names_the_known_ones() -> None:
    with pytest.raises(PlateError, match="plates found: p"):
        _index(["p/A1.jpg"], "generic").plate("q")


def test_natural_key() -> None:
    assert sorted(["t10", "t9", "T1"], key=natural_key) == ["T1", "t9", "t10"]


# -- project and export -------------------------------------------------------------------------------------------
@pytest.fixture
def plate_project(tmp_path: Path) -> Project:
    write_plate(tmp_path / "imgs")
    (tmp_path / "imgs" / "plateA" / "readme.jpg").write_bytes(
        (tmp_path / "imgs/plateA/2024-01-05/A01_1.jpg").read_bytes()
    )
    project = Project.create(tmp_path / "p.micview")
    run_task(add_folder(project, tmp_path / "imgs", workers=1))
    yield project
    project.close()


def test_project_plates_remembers_the_pattern(plate_project: Project) -> None:
    remember_pattern(plate_project, "generic")
    index = project_plates(plate_project)
    plate = index.plate("plateA")
    assert len(plate.drops) == 16 and plate.times == ["2024-01-05", "2024-01-12"]
    assert [p for p, _ in index.unparsed] == ["imgs/plateA/readme.jpg"]
    with pytest.raises(PlateError):
        remember_pattern(plate_project, "(?P<plate>x)")


def _score(project: Project) -> dict[str, int]:
    plate = project_plates(project, "generic").plate("plateA")
    ids = {f"{d.well}/{d.drop}/{d.time}": d.image_id for d in plate.drops}
    crystal = {"clear": 0.05, "crystals": 0.85, "other": 0.05, "precipitate": 0.05}
    clear = {"clear": 0.4, "crystals": 0.2, "other": 0.2, "precipitate": 0.2}
    preds = [Prediction(i, "crystals", 0.85, crystal) if k.startswith("A1/") else Prediction(i, "clear", 0.4, clear)
             for k, i in ids.items()]  # fmt: skip
    project.labels.add_predictions("outcome", preds, model_id="marco", run_id=None)
    project.labels.set([ids["B1/2/2024-01-12"]], "outcome", "precipitate", author="ada")
    return ids


def test_plate_csv_round_trip(plate_project: Project, tmp_path: Path) -> None:
    _score(plate_project)
    out = tmp_path / "plateA.csv"
    assert export_plate_csv(plate_project, "plateA", out, pattern="generic") == 16
    header, rows = read_csv(out)
    assert header[:10] == ["plate", "well", "drop", "time", "outcome", "scored_by", "scored_at", "model_id",
                           "outcome_pred", "outcome_score"]  # fmt: skip
    assert header[10:] == [f"outcome_p_{c}" for c in ("clear", "crystals", "other", "precipitate")] + ["file"]
    assert [r["well"] for r in rows][:4] == ["A1", "A1", "A1", "A1"] and rows[-1]["well"] == "H12"
    a1 = rows[0]
    got = (a1["drop"], a1["time"], a1["outcome_pred"], float(a1["outcome_p_crystals"]))
    assert got == ("1", "2024-01-05", "crystals", 0.85)
    assert a1["file"] == "imgs/plateA/2024-01-05/A01_1.jpg" and a1["model_id"] == "marco"
    b1 = next(r for r in rows if r["well"] == "B1" and r["drop"] == "2" and r["time"] == "2024-01-12")
    assert (b1["outcome"], b1["scored_by"], b1["outcome_pred"]) == ("precipitate", "ada", "clear")


def test_plate_map_png(plate_project: Project, tmp_path: Path) -> None:
    _score(plate_project)
    out = export_plate_png(plate_project, "plateA", tmp_path / "map.png", pattern="generic", layout=96)
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[0] > 300 and img.shape[1] > 500
    # well A1, drop 1 (left strip): crystals at the model's confidence 0.85
    assert tuple(img[36 + 20, 36 + 8]) == _tint(COLOURS["crystals"], 0.85)
    # B1 drop 2 (right strip) at the latest time point: the user's precipitate
    assert tuple(img[36 + 40 + 20, 36 + 30]) == COLOURS["precipitate"]
    assert not (tmp_path / ".map.png.tmp").exists()
