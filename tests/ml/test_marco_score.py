"""The MARCO scoring job: batches, progress, cancel and resume, plate filter (with a fake network)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from marco_fixtures import FakeSession

from micview.core.importer import add_folder
from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.marco.runtime import MarcoModel
from micview.ml.marco.score import score_project

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from plate_images import write_drop, write_plate


@pytest.fixture
def plates_project(tmp_path: Path) -> Project:
    write_plate(tmp_path / "imgs", "plateA", ("A01", "B02", "C03"))  # 12 images
    write_plate(tmp_path / "imgs", "plateB", ("A01",))  # 4 images
    project = Project.create(tmp_path / "p.micview")
    run_task(add_folder(project, tmp_path / "imgs", workers=1))
    # a file damaged after import: the job must list it, not stop
    write_drop(tmp_path / "imgs" / "plateB" / "2024-01-05" / "A01_1.jpg", 99).write_bytes(b"\xff\xd8\xff broken")
    yield project
    project.close()


def _model(weights: str = "sha256:aaa") -> MarcoModel:
    return MarcoModel("marco", Path("."), {"weights_hash": weights}, FakeSession())


def test_cancel_then_resume_scores_only_the_rest(plates_project: Project) -> None:
    model = _model()
    task = score_project(plates_project, model, "plateA", pattern="generic", batch_size=4)
    progress = [next(task), next(task)]  # "finding", then the first batch of 4, committed
    assert progress[1].done == 4 and progress[1].total == 12
    task.close()
    assert len(plates_project.labels.current("outcome", "model")) == 4
    assert [r.status for r in plates_project.runs.all("classification")] == ["cancelled"]

    summary = run_task(score_project(plates_project, model, "plateA", pattern="generic", batch_size=4))
    assert (summary.scored, summary.already) == (8, 4)
    preds = plates_project.labels.current("outcome", "model")
    assert len(preds) == 12 and all(set(p.scores or {}) == {"clear", "crystals", "other", "precipitate"}
                                    for p in preds.values())  # fmt: skip
    assert run_task(score_project(plates_project, model, "plateA", pattern="generic")).scored == 0


def test_whole_project_lists_unreadable_files_and_new_weights_rescore(plates_project: Project) -> None:
    summary = run_task(score_project(plates_project, _model(), batch_size=5))
    assert summary.scored == 15 and [p for p, _ in summary.failed] == ["imgs/plateB/2024-01-05/A01_1.jpg"]
    again = run_task(score_project(plates_project, _model("sha256:bbb"), batch_size=5))
    assert again.scored == 15 and again.already == 0
    run = plates_project.runs.get(again.run_id or 0)
    assert run.weights_hash == "sha256:bbb" and run.params["plate"] is None and run.status == "done"


def test_unknown_plate_is_a_user_error(plates_project: Project) -> None:
    from micview.core.plates import PlateError

    with pytest.raises(PlateError, match="plateA, plateB"):
        run_task(score_project(plates_project, _model(), "plateC", pattern="generic"))
