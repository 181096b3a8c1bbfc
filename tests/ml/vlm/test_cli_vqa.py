"""The VQA commands as a user runs them, on a tiny model folder and the generated project."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from vlm_helpers import write_qa_csv

from micview.cli import main
from micview.core.store import Project


@pytest.fixture
def project_file(labelled: Project) -> Path:
    path = labelled.path
    labelled.close()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("ask", "mcq", "describe"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0 and "usage: micview " + cmd in capsys.readouterr().out


def test_ask_streams_to_stdout(project_file: Path, vlm_dirs: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", project_file, "pattern_01.png", "What is it?", "--model",
                         vlm_dirs["qwen2_vl"], "--max-new-tokens", "6", "--precision", "float32")  # fmt: skip
    assert code == 0 and out.endswith("\n") and "CPU" in err
    with Project.open(project_file) as p:
        assert len(p.answers.search("What is it?")) == 1


def test_mcq_on_qa_csv_then_resume(
    project_file: Path, vlm_dirs: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qa = write_qa_csv(tmp_path / "qa.csv", [f"pattern_{i:02d}.png" for i in range(5)] + ["missing.jpg"])
    args = ["mcq", project_file, "--csv", qa, "--task", "technique", "--model", vlm_dirs["idefics3"],
            "--out", tmp_path / "r.csv", "-q", "--batch-size", "2"]  # fmt: skip
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert "5 questions (5 answered now, 0 already done)" in out and "balanced accuracy" in out
    assert "s per image" in out and "1 rows name no image" in err
    assert len(list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8-sig")))) == 5
    code, out, _ = run(capsys, *args)
    assert code == 0 and "(0 answered now, 5 already done)" in out


def test_describe_and_errors(project_file: Path, vlm_dirs: dict, tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "describe", project_file, "pattern_02.png", "--model", vlm_dirs["qwen2_vl"],
                       "--max-new-tokens", "4", "-q")  # fmt: skip
    assert code == 0 and out.startswith("== ")
    code, _, err = run(capsys, "ask", project_file, "nowhere.png", "q?", "--model", vlm_dirs["qwen2_vl"])
    assert code == 1 and "not an image of" in err and "Traceback" not in err
    code, _, err = run(capsys, "ask", project_file, "pattern_02.png", "q?", "--model", tmp_path / "absent")
    assert code == 1 and "not found" in err
