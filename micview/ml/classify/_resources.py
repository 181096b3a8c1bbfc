"""Where the shipped resources (prompt sets, label groupings) are, in a checkout and in a frozen app.

``resources/`` lies beside the ``micview`` package in a checkout or an editable install; a PyInstaller
bundle carries it at ``sys._MEIPASS/resources`` (add it with ``--add-data resources:resources``).
``MICVIEW_RESOURCES`` overrides both (tests, packagers).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from micview.core.errors import MicviewError


def resources_dir() -> Path:
    """The ``resources`` folder; raises when it cannot be found (an incomplete installation)."""
    candidates = []
    if env := os.environ.get("MICVIEW_RESOURCES"):
        candidates.append(Path(env))
    if frozen := getattr(sys, "_MEIPASS", None):
        candidates.append(Path(frozen) / "resources")
    candidates.append(Path(__file__).resolve().parents[3] / "resources")
    for c in candidates:
        if c.is_dir():
            return c
    raise MicviewError(f"micview's resources folder was not found (looked in {', '.join(map(str, candidates))}).")
