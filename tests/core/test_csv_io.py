"""The labelled-CSV contract: import joins, reports what it could not join, export round-trips safely."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from micview.core.csv_io import export_csv, guess_tasks, import_labels, read_csv
from micview.core.errors import CsvError, OutputError
from micview.core.store import Prediction, Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "p.micview")
    for folder, name in [("a", "001.jpg"), ("a", "002.jpg"), ("b", "003.tif"), ("b", "dup.jpg"), ("c", "dup.jpg")]:
        p.images.upsert(tmp_path / folder / name, {"status": "ok", "width": 10, "height": 8, "format": "JPEG"})
    yield p
    p.close()


def write_csv(path: Path, header: list[str], rows: list[list[str]], **kw: str) -> Path:
    with path.open("w", newline="", encoding=kw.get("encoding", "utf-8")) as f:
        w = csv.writer(f, delimiter=kw.get("delimiter", ","))
        w.writerow(header)
        w.writerows(rows)
    return path


def test_import_joins_by_path_or_unique_name_and_reports_the_rest(project: Project, tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "labels.csv",
        ["file", "technique", "contributor"],
        [["001.jpg", "SEM", "Prof X"], ["b/003.tif", "TEM", "Dr Y"], ["./a/002.jpg", "SEM", ""],
         ["dup.jpg", "AFM", "Z"], ["nothere.jpg", "SEM", "Q"]],
    )  # fmt: skip
    r = import_labels(project, src, tasks=["technique"])
    assert (r.rows, r.matched) == (5, 3)
    assert r.unmatched == ["nothere.jpg"] and r.ambiguous == ["dup.jpg"]
    assert r.tasks == {"technique": 3} and r.fields == ["contributor"]
    by_name = {row.name: row.id for row in project.images.all() if row.folder.endswith(("a", "b"))}
    labels = project.labels.labels("technique")
    assert labels[by_name["001.jpg"]] == "SEM" and labels[by_name["003.tif"]] == "TEM"
    assert project.fields.column("contributor")[by_name["003.tif"]] == "Dr Y"
    task = project.labels.task("technique")
    assert task is not None and task.classes == ["SEM", "TEM"]
    # the same file again writes nothing new
    assert import_labels(project, src, tasks=["technique"]).tasks == {"technique": 0}


def test_missing_key_column_is_a_clear_error(project: Project, tmp_path: Path) -> None:
    src = write_csv(tmp_path / "x.csv", ["image", "label"], [["001.jpg", "SEM"]])
    with pytest.raises(CsvError, match="no 'file' column"):
        import_labels(project, src)
    assert import_labels(project, src, key="image", tasks=["label"]).matched == 1


def test_excel_style_csv_is_read(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "x.csv", ["file", "längd"], [["a.jpg", "40 µm"]], delimiter=";", encoding="cp1252")
    header, rows = read_csv(src)
    assert header == ["file", "längd"] and rows == [{"file": "a.jpg", "längd": "40 µm"}]


def test_guess_tasks_takes_columns_with_few_distinct_values() -> None:
    rows = [{"file": f"{i}.jpg", "technique": "SEM" if i % 3 else "TEM", "description": f"sample {i}",
             "outcome_pred": "clear"} for i in range(30)]  # fmt: skip
    assert guess_tasks(["file", "technique", "description", "outcome_pred"], rows) == ["technique"]
    assert not {"technique_top2", "technique_model"} & set(
        guess_tasks(
            ["file", "technique", "technique_top2", "technique_model"],
            [{"file": f"{i}", "technique": "SEM", "technique_top2": "TEM", "technique_model": "m"} for i in range(30)],
        )
    )


def test_export_round_trip_and_formula_injection(project: Project, tmp_path: Path) -> None:
    ids = [row.id for row in project.images.all()]
    project.labels.set(ids[:2], "technique", "SEM")
    project.labels.set(ids[2:3], "technique", '=HYPERLINK("http://evil")')
    project.labels.add_predictions(
        "technique", [Prediction(ids[0], "TEM", 0.75, {"SEM": 0.25, "TEM": 0.75})], model_id="m"
    )
    project.fields.set_many({ids[0]: {"contributor": "+44 1223"}})
    out = tmp_path / "out.csv"
    assert export_csv(project, out) == len(ids)
    header, rows = read_csv(out)
    assert header[:6] == ["file", "technique", "technique_pred", "technique_score", "technique_p_SEM",
                          "technique_p_TEM"]  # fmt: skip
    raw = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in raw and "'+44 1223" in raw  # neutralised for spreadsheets
    assert rows[0]["technique_pred"] == "TEM" and float(rows[0]["technique_score"]) == 0.75
    assert header[6:8] == ["technique_top2", "technique_model"]
    assert (rows[0]["technique_top2"], rows[0]["technique_model"]) == ("SEM", "m")
    assert rows[2]["technique"] == '=HYPERLINK("http://evil")'  # and restored on import

    with Project.create(tmp_path / "q.micview") as q:
        for row in project.images.all():
            q.images.upsert(project.images.abspath(row), {"status": "ok"})
        r = import_labels(q, out)
        assert r.matched == len(ids) - 2 + 2  # exported paths are project-relative: every row joins
        assert "technique" in r.tasks and "technique_pred" not in r.tasks and "status" not in r.fields
        assert sorted(q.labels.labels("technique").values()) == sorted(project.labels.labels("technique").values())
        assert q.fields.column("contributor")[ids[0]] == "+44 1223"


def test_export_is_atomic_when_it_fails(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous export\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OutputError, match="the disk is full"):
        export_csv(project, out)
    assert out.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")] == []
