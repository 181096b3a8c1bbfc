"""Where micview keeps per-user model settings: the folders a user registered, and a weights-hash cache.

Preferences are forgiving (architecture rule): a missing or broken file means "nothing registered yet",
never a failed start-up. ``MICVIEW_CONFIG_DIR`` overrides the location (tests point it at a temporary folder).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from micview.core.errors import MicviewWarning

MODELS_FILE = "models.json"
HASH_CACHE_FILE = "weights-hashes.json"


def config_dir() -> Path:
    """The user's micview configuration folder (not created here)."""
    env = os.environ.get("MICVIEW_CONFIG_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "micview"


def read_json(name: str) -> dict[str, Any]:
    """The JSON object in ``config_dir()/name``; an empty dict (and a warning) when missing or unreadable."""
    path = config_dir() / name
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.warn(f"{path}: ignored, cannot be read ({exc})", MicviewWarning, stacklevel=2)
        return {}
    return data if isinstance(data, dict) else {}


def write_json(name: str, data: dict[str, Any]) -> Path:
    """Write atomically (temp file + replace) so a crash never leaves half a settings file."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return path
