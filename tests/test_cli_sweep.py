"""Every command with the bad input a user will give it: a message and exit 1 (or argparse's 2), never a traceback.

The sweep runs through ``micview.cli.main`` as the ``micview`` script does, with the user's folders (models,
cache, logs) pointed at a temporary folder and the Hugging Face hub offline.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from micview.cli import _progress, main


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    for var, sub in (("MICVIEW_CONFIG_DIR", "config"), ("MICVIEW_CACHE_DIR", "cache"), ("MICVIEW_LOG_DIR", "logs")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("MICVIEW_DEBUG", raising=False)
    monkeypatch.delenv("MICVIEW_MARCO_PYTHON", raising=False)
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(3):
        Image.new("L", (16, 12), 40 * i).save(imgs / f"{i}.png")
    (tmp_path / "fake.micview").write_text("not a database")
    (tmp_path / "labels.csv").write_text("file,phase\n0.png,ferrite\n", encoding="utf-8")
    (tmp_path / "outdir").mkdir()
    assert main(["new", str(tmp_path / "empty.micview")]) == 0
    assert main(["new", str(tmp_path / "p.micview")]) == 0
    assert main(["add", str(tmp_path / "p.micview"), str(imgs), "-q", "--workers", "1"]) == 0
    capsys.readouterr()
    return tmp_path


BAD = [
    # missing project / not a project
    *[[cmd, "{t}/missing.micview"] for cmd in ("info", "rescan", "embed", "plates", "score", "tasks")],
    *[[cmd, "{t}/fake.micview"] for cmd in ("info", "rescan", "embed", "plates", "score", "tasks")],
    ["export", "{t}/missing.micview", "{t}/out.csv"],
    ["export", "{t}/fake.micview", "{t}/out.csv"],
    ["add", "{t}/missing.micview", "{t}/imgs"],
    ["import-labels", "{t}/fake.micview", "{t}/labels.csv"],
    ["similar", "{t}/missing.micview", "0.png"],
    ["search", "{t}/fake.micview", "text"],
    ["classify", "{t}/missing.micview", "--task", "phase"],
    ["ask", "{t}/missing.micview", "0.png", "what?"],
    ["mcq", "{t}/missing.micview", "--task", "phase"],
    ["new", "{t}/p.micview"],
    ["new", "{t}/nowhere/q.micview"],
    # wrong files
    ["add", "{t}/p.micview", "{t}/nowhere"],
    ["import-labels", "{t}/p.micview", "{t}/imgs/0.png"],
    ["import-labels", "{t}/p.micview", "{t}/nothere.csv"],
    ["import-labels", "{t}/p.micview", "{t}/outdir"],
    ["mcq", "{t}/p.micview", "--csv", "{t}/nothere.csv", "--task", "phase"],
    ["mcq", "{t}/p.micview", "--csv", "{t}/imgs/0.png", "--task", "phase"],
    ["similar", "{t}/p.micview", "{t}/labels.csv"],
    ["similar", "{t}/p.micview", "nothere.png"],
    ["describe", "{t}/p.micview", "nothere.png"],
    ["models", "add", "{t}/nowhere"],
    ["models", "add", "{t}/outdir"],
    ["models", "add", "{t}/labels.csv"],
    # missing models
    ["embed", "{t}/p.micview", "--model", "nope"],
    ["embed", "{t}/p.micview", "--model", "clip-vit-b-32"],
    ["search", "{t}/p.micview", "text", "--model", "nope"],
    ["score", "{t}/p.micview"],
    ["score", "{t}/p.micview", "--model", "effnet-lite0"],
    ["plate-export", "{t}/p.micview", "{t}/out.csv", "--plate", "P1"],
    ["ask", "{t}/p.micview", "0.png", "what?", "--model", "{t}/nowhere"],
    ["ask", "{t}/p.micview", "0.png", "what?", "--model", "{t}/outdir"],
    ["models", "pull", "nope"],
    ["models", "remove", "nope"],
    ["models", "remove", "effnet-lite0"],
    ["models", "add", "marco", "--python", "{t}/nowhere/python"],
    # unknown tasks and labels
    ["similar", "{t}/p.micview", "0.png", "--label", "nope=x"],
    ["tasks", "{t}/p.micview", "rename", "nope", "x"],
    ["tasks", "{t}/p.micview", "remove", "nope"],
    ["tasks", "{t}/p.micview", "remove", "nope", "--yes"],
    ["evaluate", "{t}/p.micview", "--task", "nope", "--truth", "nope"],
    ["mcq", "{t}/p.micview", "--task", "nope"],
    ["mcq", "{t}/p.micview"],
    # empty project
    ["similar", "{t}/empty.micview", "0.png"],
    ["search", "{t}/empty.micview", "text"],
    ["suggest", "{t}/empty.micview", "--task", "phase"],
    ["learn-curve", "{t}/empty.micview", "--task", "phase"],
    ["plate-export", "{t}/empty.micview", "{t}/out.csv", "--plate", "P1"],
    ["describe", "{t}/empty.micview", "--model", "{t}/outdir"],
    # outputs that cannot be written
    ["export", "{t}/p.micview", "{t}/outdir"],
    ["export", "{t}/p.micview", "{t}/nowhere/out.csv"],
    ["export", "{t}/p.micview", "{t}/labels.csv/out.csv"],
    ["mcq", "{t}/p.micview", "--task", "phase", "--out", "{t}/nowhere/x.csv"],
    ["plate-export", "{t}/p.micview", "{t}/out.csv", "--plate", "P1", "--png", "{t}/nowhere/x.png"],
    # project safety commands
    ["check", "{t}/missing.micview"],
    ["check", "{t}/fake.micview"],
    ["salvage", "{t}/missing.micview", "{t}/new.micview"],
    ["copy", "{t}/p.micview", "{t}/nowhere/copy.micview"],
    ["copy", "{t}/missing.micview", "{t}/copy.micview"],
    ["backup", "{t}/fake.micview"],
    ["restore", "{t}/p.micview", "{t}/nothere.micview"],
    ["restore", "{t}/p.micview", "{t}/labels.csv"],
    # argparse: usage and exit 2
    ["nosuchcommand"],
    ["export", "{t}/p.micview"],
    ["similar", "{t}/p.micview", "0.png", "-k", "0"],
    ["embed", "{t}/p.micview", "--batch-size", "-1"],
    ["plates", "{t}/p.micview", "--layout", "100"],
    ["models"],
]


@pytest.mark.slow
def test_bad_invocations_never_show_a_traceback(place: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failures = []
    for args in BAD:
        argv = [a.format(t=place) for a in args]
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        if "Traceback" in out + err or code not in (1, 2) or "unexpected error" in err or not err.strip():
            failures.append((args, code, (out + err)[-400:]))
    assert not failures, "\n\n".join(f"micview {' '.join(a)} -> {c}\n{t}" for a, c, t in failures)
    assert not (place / "logs").exists(), "a command hit the catch-all: see the crash log"


def test_ctrl_c_during_a_long_command_exits_130(
    place: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C arrives while `add` draws its progress bar: the task is closed and the command exits 130."""

    def interrupted(quiet: bool) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(_progress, "_new_bar", interrupted)
    (place / "more").mkdir()
    Image.new("L", (8, 8)).save(place / "more" / "x.png")
    code = main(["add", str(place / "p.micview"), str(place / "more"), "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 130 and "Cancelled" in err and "Traceback" not in out + err
