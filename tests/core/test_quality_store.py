"""Image statistics cached by content, the quality result stored as a run and read back, and the CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.core.errors import OutputError
from micview.core.importer import add_folder
from micview.core.quality import COLUMNS, QualityResult, compute_stats, load_quality, save_quality, stats_table
from micview.core.quality.export import HEADER, write_quality_csv
from micview.core.store import Project
from micview.core.tasks import run_task


@pytest.fixture
def project(tmp_path: Path) -> Project:
    folder = tmp_path / "img"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (40, 50), np.uint8)).save(folder / f"im{i}.png")
    Image.fromarray(np.zeros((30, 30), np.uint8)).save(folder / "black.png")
    (folder / "copy_of_im0.png").write_bytes((folder / "im0.png").read_bytes())
    p = Project.create(tmp_path / "q.micview")
    run_task(add_folder(p, folder, workers=1))
    yield p
    p.close()


def ids(project: Project) -> dict[str, int]:
    return {r.name: r.id for r in project.images.all()}


def test_statistics_are_computed_once_per_content_and_kept(project: Project) -> None:
    assert run_task(compute_stats(project, workers=1)) == 5  # the byte-identical copy shares its content
    assert run_task(compute_stats(project, workers=1)) == 0
    named = ids(project)
    table = stats_table(project, np.array([named["im0.png"], named["copy_of_im0.png"], named["black.png"]]))
    assert table.hash_ok.all() and table.phash[0] == table.phash[1]
    assert table.values["brightness"][2] == 0 and table.values["entropy"][2] == 0
    assert table.values["entropy"][0] > 7  # uniform noise: close to 8 bits
    run = [r for r in project.runs.all("image_stats")][-1]
    assert run.params["source"] == "thumbnail" and run.status == "done"


def test_a_broken_thumbnail_gives_unknown_values_not_an_error(project: Project) -> None:
    broken = ids(project)["im1.png"]
    with project.transaction() as con:
        con.execute("UPDATE thumbnails SET data = ? WHERE image_id = ?", (b"garbage", broken))
    run_task(compute_stats(project, workers=1))
    table = stats_table(project, np.array([broken]))
    assert not table.hash_ok[0] and np.isnan(table.values["blur"][0])


def result_for(project: Project) -> QualityResult:
    image_ids = np.array(sorted(ids(project).values()))
    n = len(image_ids)
    cols: dict[str, np.ndarray] = {name: np.zeros(n, np.float32) for name in COLUMNS}
    cols.update(near_duplicate_of=np.full(n, -1), hash_distance=np.full(n, -1, np.int16),
                duplicate_group=np.full(n, -1, np.int32), leak=np.zeros(n, np.int8),
                given_label=np.full(n, -1, np.int32), suggested_label=np.full(n, -1, np.int32),
                cluster=np.zeros(n, np.int32), label_issue_score=np.full(n, np.nan, np.float32))  # fmt: skip
    for flag in ("is_outlier", "is_label_issue", "is_blurry", "is_dark", "is_saturated", "is_low_information"):
        cols[flag] = np.zeros(n, np.bool_)
    cols["near_duplicate_of"][[0, 1]] = image_ids[[1, 0]]
    cols["duplicate_group"][[0, 1]] = 0
    cols["given_label"][:2], cols["suggested_label"][:2] = [0, 1], [1, 1]
    cols["label_issue_score"][:2], cols["is_label_issue"][0] = [0.9, 0.1], True
    return QualityResult("m", "t", image_ids, cols, ["a", "b"], ["only cluster"], [int(image_ids[0])], {"k": 3})


def test_result_round_trips_through_the_project(project: Project) -> None:
    original = result_for(project)
    run_id = save_quality(project, original)
    back = load_quality(project, "m")
    assert back is not None and back.run_id == run_id and load_quality(project, "other model") is None
    assert back.classes == ["a", "b"] and back.cluster_names == ["only cluster"] and back.params["k"] == 3
    assert set(back.columns) == set(COLUMNS)
    for name, values in original.columns.items():
        assert np.array_equal(back.columns[name], values, equal_nan=True), name
    assert back.label_issues().tolist() == [original.image_ids[0]]
    assert [g.tolist() for g in back.duplicate_groups()] == [original.image_ids[:2].tolist()]
    assert back.summary()["near_duplicates"] == 2 and back.summary()["label_issues"] == 1


def test_csv_has_the_promised_columns_and_names_files(project: Project, tmp_path: Path) -> None:
    r = result_for(project)
    assert write_quality_csv(project, r, tmp_path / "q.csv") == len(r)
    with (tmp_path / "q.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == HEADER
    wanted = {"file", "near_duplicate_of", "duplicate_distance", "uniqueness", "outlier_score",
              "label_issue_score", "suggested_label", "blur", "brightness", "cluster"}  # fmt: skip
    assert wanted <= set(HEADER)
    paths = {r_.id: r_.path for r_ in project.images.all()}
    first = next(row for row in rows if row["file"] == paths[int(r.image_ids[0])])
    assert first["near_duplicate_of"] == paths[int(r.image_ids[1])] and first["label"] == "a"
    assert first["suggested_label"] == "b" and first["is_label_issue"] == "1" and first["cluster"] == "only cluster"
    unlabelled = next(row for row in rows if row["file"] == paths[int(r.image_ids[-1])])
    assert unlabelled["label_issue_score"] == "" and unlabelled["near_duplicate_of"] == ""
    with pytest.raises(OutputError):
        write_quality_csv(project, r, tmp_path / "no such folder" / "q.csv")
