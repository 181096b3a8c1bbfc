"""`micview import-labels` says what happened to every row and every column."""

from __future__ import annotations

from pathlib import Path

import pytest

from micview.cli import main
from micview.core.store import Project


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "p.micview"
    with Project.create(path) as p:
        for name in ("plateA/000001.jpg", "plateA/000002.jpg"):
            p.images.upsert(tmp_path / name, {"status": "ok", "width": 10})
    return path


def test_the_issue_case_is_unmatched_with_a_hint(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    csv = tmp_path / "l.csv"
    csv.write_text("file,outcome\nplateB/000002.jpg,crystals\n")
    code, out = run(capsys, "import-labels", project, csv, "--tasks", "outcome")
    assert code == 0 and "0 of 1 rows matched" in out and "no image for: plateB/000002.jpg" in out
    assert "--match-names" in out
    code, out = run(capsys, "import-labels", project, csv, "--tasks", "outcome", "--match-names")
    assert code == 0 and "1 of 1 rows matched" in out and "task 'outcome': 1 labels written" in out


def test_conflicts_and_columns_are_reported(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    csv = tmp_path / "l.csv"
    csv.write_text(
        "file,outcome,outcome_pred,width,note\n"
        "plateA/000001.jpg,clear,clear,10,first\n"
        "plateA/000001.jpg,crystals,clear,10,first\n"
        "plateA/000002.jpg,clear,clear,10,\n"
    )
    code, out = run(capsys, "import-labels", project, csv, "--tasks", "outcome")
    assert code == 0 and "3 of 3 rows matched" in out and "task 'outcome': 1 labels written" in out
    assert "1 images have rows that disagree; none of those rows was written" in out
    assert "plateA/000001.jpg (lines 2, 3): outcome: 'clear' / 'crystals'" in out
    assert "column 'outcome_pred' not imported: model output" in out
    assert "column 'width' not imported: micview computes it" in out
    code, out = run(capsys, "import-labels", project, csv, "--tasks", "outcome", "--last-wins")
    assert "the last row of each was written (--last-wins)" in out and "task 'outcome': 1 labels written" in out
    assert "notes written: 1" in out
    with Project.open(project) as p:
        assert sorted(p.labels.labels("outcome").values()) == ["clear", "crystals"]
