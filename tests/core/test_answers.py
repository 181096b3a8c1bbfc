"""The answers table (schema v2): round trip, resume keys, search, cascade on image removal."""

from __future__ import annotations

from pathlib import Path

from micview.core.store import Project
from micview.core.store.answers import DESCRIPTION, MCQ, NewAnswer


def test_answers_round_trip(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.micview") as p:
        a, b = (p.images.upsert(tmp_path / n, {"status": "ok"}) for n in ("a.png", "b.png"))
        run = p.runs.record("vqa_mcq", "k", "letters")
        p.answers.add_many([
            NewAnswer(a, MCQ, "Which?", "SEM", options=["SEM", "TEM"], scores=[0.75, 0.25], truth="SEM",
                      item_key="0:a.png", model_id="m", run_id=run, seconds=0.5),
            NewAnswer(b, DESCRIPTION, "Describe", "Grains 50% larger_than usual"),
        ])  # fmt: skip
        [row] = p.answers.for_run(run)
        assert (row.options, row.scores, row.truth, row.seconds) == (["SEM", "TEM"], [0.75, 0.25], "SEM", 0.5)
        assert p.answers.done_keys(run) == {"0:a.png"}
        assert [r.image_id for r in p.answers.search("50%")] == [b]
        assert p.answers.search("5_") == [] and p.answers.search("grains", kind=MCQ) == []
        assert p.answers.latest(b, DESCRIPTION).answer.startswith("Grains")
        p.images.remove([a])
        assert p.answers.for_run(run) == []
