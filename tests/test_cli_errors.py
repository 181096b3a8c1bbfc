"""No traceback ever reaches a scientist: bugs become a short message and a log file, Ctrl-C exits 130."""

from __future__ import annotations

import argparse
import errno
from pathlib import Path

import pytest

import micview.cli._project_cmds as project_cmds
from micview.cli import main
from micview.cli._crash import write_crash_log


@pytest.fixture(autouse=True)
def _logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    logs = tmp_path / "logs"
    monkeypatch.setenv("MICVIEW_LOG_DIR", str(logs))
    monkeypatch.delenv("MICVIEW_DEBUG", raising=False)
    return logs


def _failing(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def boom(args: argparse.Namespace) -> int:
        raise exc

    monkeypatch.setattr(project_cmds, "cmd_info", boom)


def test_a_bug_is_a_message_and_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _failing(monkeypatch, ValueError("the bug"))
    assert main(["info", str(tmp_path / "p.micview")]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "unexpected error" in err and "ValueError: the bug" in err and "--debug" in err
    logs = list((tmp_path / "logs").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "ValueError: the bug" in text and "command: micview info" in text


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing(monkeypatch, ValueError("the bug"))
    with pytest.raises(ValueError, match="the bug"):
        main(["--debug", "info", str(tmp_path / "p.micview")])
    monkeypatch.setenv("MICVIEW_DEBUG", "1")
    with pytest.raises(ValueError, match="the bug"):
        main(["info", str(tmp_path / "p.micview")])


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _failing(monkeypatch, KeyboardInterrupt())
    assert main(["info", "p.micview"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_an_os_error_on_a_file_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _failing(monkeypatch, PermissionError(errno.EACCES, "Permission denied", "/data/x.tif"))
    assert main(["info", "p.micview"]) == 1
    assert capsys.readouterr().err.strip() == "micview: error: /data/x.tif: no permission."
    _failing(monkeypatch, OSError(errno.ENOSPC, "No space left on device", "/data/report"))
    assert main(["info", "p.micview"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "micview: error: /data/report: the disk is full; free some space and run it again."


def test_a_file_where_a_folder_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `evaluate --report FILE` meets: mkdir of a path that is a file."""
    (tmp_path / "report").write_text("x")
    _failing(monkeypatch, FileExistsError(errno.EEXIST, "File exists", str(tmp_path / "report")))
    assert main(["info", "p.micview"]) == 1
    assert capsys.readouterr().err.strip().endswith("report: is a file, and a folder is needed there.")


def test_out_of_memory(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _failing(monkeypatch, MemoryError())
    assert main(["info", "p.micview"]) == 1
    assert "out of memory" in capsys.readouterr().err


def test_no_writable_log_folder_still_gives_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("MICVIEW_LOG_DIR", str(tmp_path / "file" / "logs"))  # under a file: cannot be made
    monkeypatch.setenv("TMPDIR", str(tmp_path / "file"))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    _failing(monkeypatch, RuntimeError("x"))
    assert main(["info", "p.micview"]) == 1
    err = capsys.readouterr().err
    assert "unexpected error" in err and "Traceback" not in err and "--debug" in err


def test_old_logs_are_pruned(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(30):
        (logs / f"crash-20000101-0000{i:02d}-1.log").write_text("old")
    path = write_crash_log(RuntimeError("x"), ["info"])
    assert path is not None and path.exists()
    assert len(list(logs.glob("crash-*.log"))) == 20


def test_unprintable_file_names_are_printed_escaped(tmp_path: Path) -> None:
    """A name that is not valid UTF-8 (a surrogate escape) prints as \\udcff, not UnicodeEncodeError."""
    import subprocess
    import sys

    code = (
        "import micview.cli as c, argparse\n"
        "import micview.cli._project_cmds as p\n"
        "p.cmd_info = lambda a: print('bad\\udcff.jpg') or 0\n"
        "raise SystemExit(c.main(['info', 'x.micview']))\n"
    )
    env = {"PYTHONIOENCODING": "utf-8", "PATH": "", "MICVIEW_LOG_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "bad\\udcff.jpg"
