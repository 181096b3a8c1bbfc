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
    path.parent.mkdir(parents=True, exist_ok=True)
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


# -- labels never land on the wrong image -------------------------------------------------------------------------
def test_a_path_with_folders_matches_only_that_path(tmp_path: Path) -> None:
    """The issue's case: the project holds plateA/000002.jpg only; a row for plateB/000002.jpg is not it."""
    with Project.create(tmp_path / "p.micview") as p:
        image_id = p.images.upsert(tmp_path / "plateA" / "000002.jpg", {"status": "ok"})
        src = tmp_path / "labels.csv"
        src.write_text("file,outcome\nplateB/000002.jpg,crystals\n")
        r = import_labels(p, src, tasks=["outcome"])
        assert (r.matched, r.unmatched) == (0, ["plateB/000002.jpg"]) and p.labels.labels("outcome") == {}
        src.write_text("file,outcome\nplateA/000002.jpg,crystals\n000002.jpg,clear\n")  # folder path; bare name
        r = import_labels(p, src, tasks=["outcome"], last_wins=True)
        assert r.matched == 2 and p.labels.labels("outcome") == {image_id: "clear"}
        src.write_text("file,outcome\nplateB/000002.jpg,precipitate\n")  # a CSV from another layout, on request
        assert import_labels(p, src, tasks=["outcome"], match_names=True).matched == 1
        assert p.labels.labels("outcome") == {image_id: "precipitate"}


def test_paths_relative_to_the_csv_and_ambiguous_readings(project: Project, tmp_path: Path) -> None:
    ids = {r.path: r.id for r in project.images.all()}
    sub = tmp_path / "a"
    write_csv(sub / "labels.csv", ["file", "k"], [["002.jpg", "x"], ["../b/003.tif", "y"], ["dup.jpg", "z"]])
    r = import_labels(project, sub / "labels.csv", tasks=["k"])
    assert project.labels.labels("k") == {ids["a/002.jpg"]: "x", ids["b/003.tif"]: "y"} and r.ambiguous == ["dup.jpg"]
    # "b/dup.jpg" read from the CSV's folder c/ means c/b/dup.jpg: not there, so only the project reading counts
    write_csv(tmp_path / "c" / "l.csv", ["file", "k"], [["b/dup.jpg", "w"]])
    assert import_labels(project, tmp_path / "c" / "l.csv", tasks=["k"]).matched == 1
    # both readings name an image, different ones: ambiguous, not a guess
    project.images.upsert(tmp_path / "a" / "a" / "001.jpg", {"status": "ok"})
    write_csv(sub / "both.csv", ["file", "k"], [["a/001.jpg", "v"]])
    r = import_labels(project, sub / "both.csv", tasks=["k"])
    assert r.ambiguous == ["a/001.jpg"] and ids["a/001.jpg"] not in project.labels.labels("k")


def test_rows_that_disagree_are_reported_and_not_written(project: Project, tmp_path: Path) -> None:
    ids = {r.path: r.id for r in project.images.all()}
    src = write_csv(
        tmp_path / "l.csv", ["file", "outcome", "site"],
        [["a/001.jpg", "clear", "x"], ["a/002.jpg", "clear", "y"], ["./a/001.jpg", "crystals", "x"],
         ["a/002.jpg", "clear", "y"], ["b/003.tif", "clear", "q"]],
    )  # fmt: skip
    r = import_labels(project, src, tasks=["outcome"])
    assert [(c.file, c.lines, c.values) for c in r.conflicts] == [
        ("a/001.jpg", [2, 4], {"outcome": ["clear", "crystals"]})
    ]
    assert project.labels.labels("outcome") == {ids["a/002.jpg"]: "clear", ids["b/003.tif"]: "clear"}
    assert ids["a/001.jpg"] not in project.fields.column("site")  # none of the conflicting rows was written
    r = import_labels(project, src, tasks=["outcome"], last_wins=True)
    assert len(r.conflicts) == 1 and project.labels.labels("outcome")[ids["a/001.jpg"]] == "crystals"


def test_columns_named_like_built_in_fields_are_imported_by_rule_or_reported(project: Project, tmp_path: Path) -> None:
    ids = {r.path: r.id for r in project.images.all()}
    src = write_csv(
        tmp_path / "l.csv",
        ["file", "outcome", "outcome_pred", "note", "tags", "magnification", "detector", "status", "width",
         "marco_score", "", "microscope_model"],
        [["a/001.jpg", "clear", "precipitate", "recheck", "good; plate 1", "5000", "", "ok", "10", "0.7", "", "X1"],
         ["a/002.jpg", "clear", "clear", "", "", "", "", "missing", "11", "0.2", "stray", "X1"]],
    )  # fmt: skip
    r = import_labels(project, src, tasks=["outcome"])
    assert project.fields.note(ids["a/001.jpg"]) == "recheck" and r.notes == 1
    assert project.fields.tags() == {ids["a/001.jpg"]: ["good", "plate 1"]} and r.tags == 2
    assert r.renamed == {"magnification": "csv_magnification"}  # differs from the file's own (None): kept aside
    assert project.fields.column("csv_magnification") == {ids["a/001.jpg"]: "5000", ids["a/002.jpg"]: None}
    assert project.images.get(ids["a/001.jpg"]).magnification is None  # the file's own value is untouched
    assert set(r.ignored) == {"outcome_pred", "detector", "status", "width", "column 11"}
    assert "model output" in r.ignored["outcome_pred"] and "same as" in r.ignored["detector"]
    assert "computes" in r.ignored["status"] and "no name" in r.ignored["column 11"]
    assert project.fields.column("marco_score")[ids["a/001.jpg"]] == "0.7"  # a user's *_score column is data
    assert project.fields.column("microscope_model")[ids["a/001.jpg"]] == "X1"
    assert set(r.fields) == {"marco_score", "microscope_model", "csv_magnification"}


def test_a_repeated_column_is_refused_and_extra_cells_are_reported(project: Project, tmp_path: Path) -> None:
    src = tmp_path / "l.csv"
    src.write_text("file,site,site\na/001.jpg,x,y\n")
    with pytest.raises(CsvError, match="'site' appear more than once"):
        import_labels(project, src)
    src.write_text("file,site\na/001.jpg,x,lost?\na/002.jpg,y\n")
    assert import_labels(project, src, tasks=[]).long_rows == [2]


def test_export_and_import_keep_any_text_exactly(project: Project, tmp_path: Path) -> None:
    """A cell that really starts with ', a tab or spaces comes back as written (the ' and spaces were stripped)."""
    texts = ["'quoted", "''twice", "'=not a formula", "\tlead tab", "  spaced  ", "=1+1", "-", "a;b\tc", "line\nbreak"]
    ids = [r.id for r in project.images.all()]
    for i, text in zip(ids, texts, strict=False):
        project.labels.set([i], "=task", text)
        project.fields.set_many({i: {" field ": text}})
        project.fields.set_note(i, text)
    out = tmp_path / "out.csv"
    export_csv(project, out)
    with Project.create(tmp_path / "q.micview") as q:
        for row in project.images.all():
            q.images.upsert(project.images.abspath(row), {"status": "ok"})
        import_labels(q, out, tasks=["=task"])
        assert q.labels.labels("=task") == project.labels.labels("=task")
        assert q.fields.column(" field ") == project.fields.column(" field ")
        assert {i: q.fields.note(i) for i in ids} == {i: project.fields.note(i) for i in ids}
