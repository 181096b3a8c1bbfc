"""The classification commands as a user runs them: classify, evaluate (with report), learn-curve, suggest,
export, and the messages for what a user can get wrong. Real default-model features on generated images."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from micview.cli import main
from micview.core.store import Project
from micview.ml.registry import best_offline_model

BEST = best_offline_model()


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def stripes(seed: int, vertical: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:96, 0:96]
    period = rng.uniform(6, 12)
    wave = np.sin(2 * np.pi * (x if vertical else y) / period + rng.uniform(0, 6))
    return (127 + 100 * wave + 10 * rng.normal(size=wave.shape)).clip(0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def labelled_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 images, vertical vs horizontal stripes; 8 labelled (fine labels 'v1', 'v2', 'h') in labels.csv."""
    root = tmp_path_factory.mktemp("cli_classify")
    (root / "img").mkdir()
    rows = []
    for i in range(12):
        vertical = i % 2 == 0
        Image.fromarray(stripes(i, vertical)).save(root / "img" / f"im{i:02d}.png")
        fine = ("v1" if i % 4 == 0 else "v2") if vertical else "h"
        rows.append({"file": f"im{i:02d}.png", "orient": fine if i < 8 else "", "truth": fine})
    with (root / "labels.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, ["file", "orient", "truth"])
        w.writeheader()
        w.writerows(rows)
    (root / "groups.json").write_text('{"groups": {"v1": "vertical", "v2": "vertical", "h": "horizontal"}}')
    return root


@pytest.fixture
def project(labelled_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Path:  # fmt: skip
    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    p = tmp_path / "p.micview"
    assert run(capsys, "new", p)[0] == 0
    assert run(capsys, "add", p, labelled_project / "img", "-q")[0] == 0
    assert run(capsys, "import-labels", p, labelled_project / "labels.csv", "--tasks", "orient,truth")[0] == 0
    return p


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("classify", "evaluate", "learn-curve", "suggest"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0 and f"usage: micview {cmd}" in capsys.readouterr().out


def test_round_trip(project: Path, labelled_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    groups = labelled_project / "groups.json"
    code, out, err = run(capsys, "classify", project, "--task", "orient", "--groups-file", groups)
    assert code == 0, err
    assert f"Model: {BEST} (the best available offline" in out  # no --model: says which it took
    assert f"orient_group: 12 images classified with {BEST} (few-shot:" in out and "8 labels" in out
    assert "classifier: " in out
    with Project.open(project) as p:
        recipe = p.runs.latest("classify:orient_group").params
    assert recipe["model_chosen_by"] == "default: best available offline" and recipe["few_shot"]["method"]
    code, out, err = run(capsys, "evaluate", project, "--task", "orient", "--groups", "--truth", "truth",
                         "--mode", "stored", "--report", tmp_path / "rep")  # fmt: skip
    assert code == 0, err
    assert "| Task | Accuracy | Balanced Accuracy | Macro F1 |" in out and "| vertical |" in out
    assert {p.name for p in (tmp_path / "rep").iterdir()} >= {"report.md", "report.html", "report.json",
                                                              "confusion_orient_group.png"}  # fmt: skip
    code, out, _ = run(capsys, "evaluate", project, "--task", "orient", "--groups", "--truth", "orient")
    assert code == 0 and "cross-validation" in out and "out-of-fold" in out  # in-sample would flatter
    assert f"Model: {BEST}, 4-fold cross-validation; classifier chosen by inner cross-validation" in out
    code, out, _ = run(capsys, "learn-curve", project, "--task", "orient", "--groups", "--k", "1,3", "--repeats", "3")
    assert code == 0 and "| orient_group | 3 | 3–3 | 3 |" in out and f"Model: {BEST}; classifier per draw: " in out
    code, out, _ = run(capsys, "suggest", project, "--task", "orient", "--groups", "-n", "3")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 4 and all(int(line.split("\t")[0][-6:-4]) >= 8 for line in lines[1:])
    assert lines[0].split("\t") == ["file", "predicted", "score", "uncertainty", "reason"]
    assert all(len(line.split("\t")) == 5 and line.split("\t")[4] for line in lines[1:])
    code, _, _ = run(capsys, "export", project, tmp_path / "out.csv")
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8-sig")))
    wanted = {"orient", "orient_group_pred", "orient_group_score", "orient_group_p_vertical", "orient_group_top2"}
    assert code == 0 and wanted <= set(rows[0]) and rows[0]["orient_group_model"] == BEST
    right = sum(r["orient_group_pred"] == ("vertical" if r["truth"] != "h" else "horizontal") for r in rows)
    assert right >= 10  # stripes orientation: easy for real ImageNet features


def test_mistakes_are_messages(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "classify", project, "--task", "nothing", "-q")
    assert code == 1 and "no text tower" in err and "Traceback" not in err
    code, _, err = run(capsys, "classify", project, "--task", "orient", "--zero-shot-only", "-q")
    assert code == 1 and "no text tower" in err
    code, _, err = run(capsys, "evaluate", project, "--task", "orient", "--truth", "truth")
    assert code == 1 and "no predictions yet" in err
    code, _, err = run(capsys, "classify", project, "--task", "orient", "--groups", "-q")
    assert code == 1 and "--groups-file" in err


def test_progress_is_shown_while_evaluating_and_curving(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "classify", project, "--task", "orient", "-q")[0] == 0
    code, _, err = run(capsys, "learn-curve", project, "--task", "orient", "--k", "1,2", "--repeats", "2")
    assert code == 0 and "labels per class, draw" in err  # the bar's text on stderr, stdout stays a table
    code, _, err = run(capsys, "evaluate", project, "--task", "orient", "--truth", "orient", "--mode", "cv")
    assert code == 0 and "Cross-validation fold" in err


def test_grouped_evaluation_and_its_mistakes(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    specimens = tmp_path / "spec.csv"
    specimens.write_text("file,specimen\n" + "".join(f"im{i:02d}.png,s{i // 2}\n" for i in range(12)))
    assert run(capsys, "import-labels", project, specimens, "--tasks", "specimen")[0] == 0
    assert run(capsys, "classify", project, "--task", "orient", "-q")[0] == 0
    code, out, err = run(capsys, "learn-curve", project, "--task", "orient", "--k", "1", "--repeats", "2",
                         "--group-by", "specimen", "-q")  # fmt: skip
    assert code == 0, err
    assert "never share a specimen" in out
    code, _, err = run(capsys, "learn-curve", project, "--task", "orient", "--group-by", "nothing", "-q")
    assert code == 1 and "to group by" in err and "Traceback" not in err
    code, _, err = run(capsys, "learn-curve", project, "--task", "orient", "--k", "x", "-q")
    assert code == 1 and "--k expects" in err


def test_suggest_with_nothing_left_says_why(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "classify", project, "--task", "truth", "-q")[0] == 0  # every image labelled in 'truth'
    code, out, err = run(capsys, "suggest", project, "--task", "truth", "-n", "3")
    assert code == 0 and out == "" and "Nothing to suggest: all 12 images" in err and "are labelled" in err


def test_models_recommend_lists_tested_text_models_with_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    from micview.ml.registry import RECOMMENDED, get_spec

    code, out, _ = run(capsys, "models", "recommend")
    assert code == 0 and f"micview models pull {RECOMMENDED[0].model_id}" in out
    for r in RECOMMENDED:
        assert get_spec(r.model_id).has_text and f"{r.model_id}  " in out and f"~{r.download_mb} MB" in out
    assert f"image features only: {BEST}" in out
