"""Which micview this is: version, how it runs (frozen app, source checkout, installed package) and the commit.

``micview --version``, crash logs and the self-test print :func:`describe`, so a report names the exact build.
The frozen app reads ``_build.json``, written beside the package by the PyInstaller spec (commit, build date,
torch build); a source checkout asks git (quickly, and never fails over it); an installed wheel knows its
version only.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import micview
from micview.core.resources import is_frozen, package_dir

BUILD_FILE = "_build.json"


def frozen_build() -> dict[str, Any]:
    """What the spec recorded at build time (empty when not frozen or when the file is unreadable)."""
    try:
        data = json.loads((package_dir() / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _git(folder: Path, *args: str) -> str:
    cmd = ["git", "-C", str(folder), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=5, check=True).stdout.strip()


def git_commit(folder: Path) -> str | None:
    """The checkout's short commit, with ``+changes`` when tracked files differ from it; ``None`` without git."""
    if not (folder / ".git").exists():
        return None
    try:
        head = _git(folder, "rev-parse", "--short", "HEAD")
        dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+changes" if dirty else head


def kind() -> str:
    """``frozen``, ``source`` (a checkout, also an editable install) or ``installed``."""
    if is_frozen():
        return "frozen"
    return "source" if (package_dir().parent / "pyproject.toml").is_file() else "installed"


def describe() -> str:
    """One line: ``micview 0.1.0 (frozen, commit 1a2b3c4, built 2026-01-02, torch 2.14.1+cpu)``."""
    how = kind()
    parts = [how]
    if how == "frozen":
        build = frozen_build()
        parts += [f"commit {build.get('commit') or 'unknown'}", f"built {build.get('date') or 'unknown'}"]
        if build.get("torch"):
            parts.append(f"torch {build['torch']}")
    elif how == "source":
        parts.append(f"commit {git_commit(package_dir().parent) or 'unknown'}")
    return f"micview {micview.__version__} ({', '.join(parts)})"
