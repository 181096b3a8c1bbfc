"""``micview --version`` names the build: frozen app (commit, date, torch), checkout (commit) or package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import micview
from micview.core import build_info


def test_checkout_names_its_commit() -> None:
    text = build_info.describe()
    assert text.startswith(f"micview {micview.__version__} (source, commit ")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert head and head in text


def test_frozen_app_reads_what_the_build_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "micview"
    package.mkdir()
    build = {"commit": "1a2b3c4", "date": "2026-01-02 03:04 UTC", "torch": "2.14.1+cpu"}
    (package / "_build.json").write_text(json.dumps(build))
    monkeypatch.setattr(build_info, "package_dir", lambda: package)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    expected = "(frozen, commit 1a2b3c4, built 2026-01-02 03:04 UTC, torch 2.14.1+cpu)"
    assert build_info.describe() == f"micview {micview.__version__} {expected}"


def test_installed_package_and_unreadable_build_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "micview"
    package.mkdir(parents=True)
    monkeypatch.setattr(build_info, "package_dir", lambda: package)
    assert build_info.describe() == f"micview {micview.__version__} (installed)"
    (package / "_build.json").write_text("{not json")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert "frozen, commit unknown, built unknown" in build_info.describe()


def test_version_option_prints_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    from micview.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"micview {micview.__version__} (source, commit ")
