"""Batch MCQ evaluation on a generated project: end to end, resume after cancel, CSV layouts, export."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from vlm_helpers import CLASSES, write_qa_csv

from micview.core.errors import CsvError
from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.vlm import EvalSettings, evaluate_mcq, export_results, project_items, read_csv_items
from micview.ml.vlm.fewshot import choose_exemplars


def _names(project: Project) -> list[str]:
    return sorted(r.name for r in project.images.all() if r.name.startswith("pattern_") and r.name.endswith(".png"))


def test_qa_csv_layout_joins_by_file_name(labelled: Project, tmp_path: Path) -> None:
    path = write_qa_csv(tmp_path / "qa.csv", [*_names(labelled)[:4], "absent.jpg"])
    qs = read_csv_items(labelled, path, task="technique")
    assert len(qs.items) == 4 and qs.unmatched == ["./miclib_output/images/absent.jpg"]
    assert qs.items[0].options == ("AFM", "SEM", "TEM")  # the CSV column's values, sorted
    assert qs.items[0].question == "Which microscopy technique was used to acquire this image?"
    assert [qs.items[0].options[i.answer] for i in qs.items] == ["SEM", "TEM", "AFM", "SEM"]
    given = read_csv_items(labelled, path, task="technique", options=CLASSES)
    assert given.items[0].options == CLASSES and given.items[2].answer == 2
    with pytest.raises(CsvError, match="--task"):
        read_csv_items(labelled, path)


def test_explicit_csv_layout(labelled: Project, tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("image,question,options,answer\npattern_01.png,Grains?,yes|no,B\npattern_02.png,Phase?,a|b|c,c\n")
    qs = read_csv_items(labelled, path)
    assert [(i.question, i.options, i.answer) for i in qs.items] == [
        ("Grains?", ("yes", "no"), 1), ("Phase?", ("a", "b", "c"), 2)]  # fmt: skip


def test_evaluation_end_to_end_and_resume_after_cancel(
    labelled: Project, vlms: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import micview.ml.vlm.evaluate as ev

    vlm = vlms["qwen2_vl"]
    scored: list[int] = []
    real = ev.score_letters
    monkeypatch.setattr(ev, "score_letters", lambda v, c, n: scored.append(len(c)) or real(v, c, n))
    qs = project_items(labelled, "technique")
    assert len(qs.items) == 10
    settings = EvalSettings(batch_size=4)

    task = evaluate_mcq(labelled, qs, vlm, settings)
    first = next(p for p in task if p.done)  # the first batch is saved before its progress is yielded
    task.close()
    assert first.done == 4 and scored == [4]
    run = labelled.runs.all(kind="vqa_mcq")[-1]
    assert run.status == "cancelled" and len(labelled.answers.for_run(run.id)) == 4

    report = run_task(evaluate_mcq(labelled, qs, vlm, EvalSettings(batch_size=3)))
    assert scored == [4, 3, 3]  # only the 6 remaining questions, in a new batch size
    assert report.run_id == run.id and report.already_done == 4 and report.answered_now == 6
    assert labelled.runs.get(run.id).status == "done"
    m = report.metrics
    assert m.n == 10 and 0 <= m.accuracy <= 1 and m.confusion.sum() == 10 and m.unanswered == 0
    assert report.seconds_per_image > 0
    assert labelled.runs.load_array(run.id, "confusion_matrix").sum() == 10

    again = run_task(evaluate_mcq(labelled, qs, vlm, settings))
    assert again.answered_now == 0 and again.metrics.accuracy == m.accuracy

    out = export_results(labelled, run.id, tmp_path / "results.csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 10 and {r["truth"] for r in rows} == set(CLASSES)
    assert sum(float(r[f"p_option_{i}"]) for i in (1, 2, 3) for r in rows[:1]) == pytest.approx(1.0, abs=1e-5)


def test_generate_and_parse_method(labelled: Project, vlms: dict) -> None:
    qs = project_items(labelled, "technique")
    qs.items[:] = qs.items[:3]
    report = run_task(evaluate_mcq(labelled, qs, vlms["idefics3"], EvalSettings(method="generate", max_new_tokens=3)))
    assert report.metrics.n == 3  # random weights rarely produce a letter: those count as unanswered


def test_few_shot_exemplars_are_not_evaluated_images(labelled: Project, vlms: dict) -> None:
    qs = project_items(labelled, "technique")
    evaluated, spare = qs.items[:6], qs.items[6:]
    qs.items[:] = evaluated
    pairs = choose_exemplars(labelled, "technique", CLASSES, 1, {i.image_id for i in evaluated})
    assert {p[0] for p in pairs} <= {i.image_id for i in spare} and len(pairs) == 3
    report = run_task(evaluate_mcq(labelled, qs, vlms["qwen2_vl"], EvalSettings(shots=1, batch_size=6)))
    assert report.exemplars == pairs and report.metrics.n == 6
