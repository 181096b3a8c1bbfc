"""The project file: creation, reopening, refusal of newer files, atomic writes, history of labels."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from micview.core.errors import DiskFullError, ProjectError, ProjectVersionError
from micview.core.store import Prediction, Project
from micview.core.store.schema import APPLICATION_ID, SCHEMA_VERSION


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.create(tmp_path / "p.micview")
    yield p
    p.close()


def test_create_adds_suffix_and_refuses_to_overwrite(tmp_path: Path) -> None:
    with Project.create(tmp_path / "plate") as p:
        assert p.path.name == "plate.micview"
        assert p.schema_version == SCHEMA_VERSION
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(tmp_path / "plate.micview")
    with Project.open(tmp_path / "plate.micview") as p:
        assert p.get_meta("created_by")


def test_newer_project_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.micview"
    Project.create(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    con.execute("PRAGMA journal_mode = DELETE")
    con.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    files_before = sorted(tmp_path.iterdir())
    with pytest.raises(ProjectVersionError, match="newer micview"):
        Project.open(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(tmp_path.iterdir()) == files_before  # not even a -wal file appeared


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.micview"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ProjectError, match="not a micview project"):
        Project.open(junk)
    other = tmp_path / "other.micview"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.close()
    with pytest.raises(ProjectError, match="not a micview project"):
        Project.open(other)
    with pytest.raises(ProjectError, match="no such project"):
        Project.open(tmp_path / "absent.micview")


def test_schema_has_application_id(project: Project) -> None:
    assert project.con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert project.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_paths_are_relative_under_the_project_folder(tmp_path: Path) -> None:
    (tmp_path / "proj" / "imgs").mkdir(parents=True)
    outside = tmp_path / "elsewhere" / "b.tif"
    with Project.create(tmp_path / "proj" / "p.micview") as p:
        inside_id = p.images.upsert(tmp_path / "proj" / "imgs" / "a.tif", {"status": "ok"})
        outside_id = p.images.upsert(outside, {"status": "ok"})
        assert p.images.get(inside_id).path == "imgs/a.tif"
        assert p.images.get(inside_id).folder == "imgs"
        assert p.images.get(outside_id).path == outside.as_posix()
    (tmp_path / "proj").rename(tmp_path / "moved")
    with Project.open(tmp_path / "moved" / "p.micview") as p:
        row = p.images.get(inside_id)
        assert p.images.abspath(row) == tmp_path / "moved" / "imgs" / "a.tif"


def test_failed_transaction_leaves_nothing(project: Project) -> None:
    with pytest.raises(RuntimeError), project.transaction():
        project.images.upsert("a.png", {"status": "ok"})
        project.images.upsert("b.png", {"status": "ok"})
        raise RuntimeError("crash in the middle of a batch")
    assert project.images.count() == 0


def test_disk_full_rolls_back_the_batch_and_keeps_earlier_work(project: Project) -> None:
    project.images.upsert("kept.png", {"status": "ok"})
    page_count = project.con.execute("PRAGMA page_count").fetchone()[0]
    project.con.execute(f"PRAGMA max_page_count = {page_count + 2}")  # the disk is "full" 2 pages later
    with pytest.raises(DiskFullError, match="disk is full"), project.transaction():
        for i in range(2000):
            project.images.upsert(f"img{i}.png", {"status": "ok", "metadata_json": "x" * 500})
    assert [r.name for r in project.images.all()] == ["kept.png"]


def test_labels_keep_their_history(project: Project) -> None:
    a = project.images.upsert("a.png", {"status": "ok"})
    b = project.images.upsert("b.png", {"status": "ok"})
    project.labels.set([a, b], "technique", "SEM", author="ana")
    project.labels.set([a], "technique", None)  # removed
    project.labels.set([b], "technique", "TEM")
    assert project.labels.labels("technique") == {b: "TEM"}
    assert [h.label for h in project.labels.history(a, "technique")] == ["SEM", None]
    assert project.labels.history(b)[0].author == "ana"
    assert project.labels.task_names() == ["technique"]


def test_labels_of_some_images_and_whether_a_task_has_labels(project: Project) -> None:
    ids = [project.images.upsert(f"{k}.png", {"status": "ok"}) for k in range(1000)]  # more than one query's ids
    assert not project.labels.has_labels("technique")
    project.labels.set_many("technique", {i: ("SEM" if i % 2 else "TEM") for i in ids})
    project.labels.set_many("technique", {ids[0]: None, ids[999]: "optical"})
    project.labels.add_predictions("technique", [Prediction(ids[0], "SEM")], model_id="m")
    every = project.labels.labels("technique")
    assert project.labels.labels_of("technique", ids) == every and ids[0] not in every
    assert project.labels.labels_of("technique", [ids[0], ids[999], 10**9]) == {ids[999]: "optical"}
    assert project.labels.has_labels("technique")
    project.labels.set_many("technique", dict.fromkeys(ids))
    assert not project.labels.has_labels("technique") and project.labels.labels_of("technique", ids) == {}


def test_predictions_are_separate_from_user_labels(project: Project) -> None:
    a = project.images.upsert("a.png", {"status": "ok"})
    run = project.runs.record("classifier", "clf:x", "logreg", {"C": 1.0}, model_id="m")
    project.labels.add_predictions(
        "outcome", [Prediction(a, "clear", 0.7, {"clear": 0.7, "crystals": 0.3})], model_id="m", run_id=run
    )
    assert project.labels.labels("outcome") == {}
    pred = project.labels.current("outcome", "model")[a]
    assert (pred.label, pred.score, pred.scores, pred.run_id) == ("clear", 0.7, {"clear": 0.7, "crystals": 0.3}, run)


def test_embeddings_round_trip_by_content_hash(project: Project) -> None:
    a = project.images.upsert("a.png", {"status": "ok", "content_hash": "h-a"})
    project.images.upsert("copy-of-a.png", {"status": "ok", "content_hash": "h-a"})
    project.images.upsert("broken.png", {"status": "error", "content_hash": "h-b"})
    vec = np.random.default_rng(0).normal(size=(2, 8)).astype(np.float32)
    project.embeddings.put("m", ["h-a", "h-b"], vec)
    hashes, mat = project.embeddings.matrix("m")
    assert hashes == ["h-a", "h-b"]
    np.testing.assert_allclose(mat, vec, rtol=1e-3, atol=1e-3)  # float16 storage
    ids, mat = project.embeddings.for_images("m")
    assert list(ids) == [a, a + 1] and mat.shape == (2, 8)  # both files with that content, not the broken one
    assert project.embeddings.missing("m", ["h-a", "h-c"]) == ["h-c"]
    assert project.embeddings.models() == [("m", 2, 8)]


def test_runs_keep_recipe_and_arrays(project: Project) -> None:
    rid = project.runs.record("map", "map:umap", "umap", {"n_neighbors": 15}, model_id="m", weights_hash="abc")
    xy = np.arange(10, dtype=np.float32).reshape(5, 2)
    project.runs.save_array(rid, "xy", xy)
    info = project.runs.latest("map:umap")
    assert info is not None and info.params == {"n_neighbors": 15} and info.weights_hash == "abc"
    np.testing.assert_array_equal(project.runs.load_array(rid, "xy"), xy)


def test_fields_notes_tags(project: Project) -> None:
    a = project.images.upsert("a.png", {"status": "ok"})
    project.fields.set_many({a: {"contributor": "Prof X", "length_bar": "40 μm"}})
    project.fields.set_note(a, "charging artefact top left")
    project.fields.add_tags([a], "review")
    assert project.fields.all() == {a: {"contributor": "Prof X", "length_bar": "40 μm"}}
    assert project.fields.note(a) == "charging artefact top left"
    assert project.fields.tags() == {a: ["review"]}


def test_an_old_project_is_migrated_forward_and_keeps_its_data(tmp_path: Path) -> None:
    """A file at schema 1 (as the first release wrote it) opens, upgrades, and loses nothing."""
    from micview.core.store.schema import MIGRATIONS

    path = tmp_path / "old.micview"
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript(f"BEGIN; {MIGRATIONS[0]} PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version=1; COMMIT;")
    con.execute(
        "INSERT INTO images (path, name, folder, status, added_at, updated_at) "
        "VALUES ('a.png', 'a.png', '', 'ok', 'x', 'x')"
    )
    con.execute(
        "INSERT INTO annotations (image_id, task, label, source, created_at) "
        "VALUES (1, 'technique', 'SEM', 'user', 'x')"
    )
    con.close()
    with Project.open(path) as p:
        assert p.schema_version == SCHEMA_VERSION
        assert p.labels.labels("technique") == {1: "SEM"}
        fresh = Project.create(tmp_path / "fresh.micview")
        schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        assert p.con.execute(schema).fetchall() == fresh.con.execute(schema).fetchall()
        fresh.close()
