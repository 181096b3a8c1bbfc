"""Application preferences (model, device, thumbnail size, recent projects, window layout) in QSettings.

Forgiving by design (architecture.md): every read is type-checked and falls back to the default, so a bad or
hand-edited settings file never stops start-up. Tests isolate it with :func:`use_ini_folder`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "micview"
APPLICATION = "micview"
MAX_RECENT = 10
DEFAULT_MODEL = "effnet-lite0"  # = micview.ml.registry.DEFAULT_MODEL, repeated to keep the ml layer unimported


def use_ini_folder(folder: str | Path) -> None:
    """Keep settings as an INI file under ``folder`` (tests, portable installs)."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


class Settings:
    """Typed access to the preferences; one instance per window is fine (QSettings is cheap)."""

    def __init__(self) -> None:
        self._s = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)

    def _get(self, key: str, default: Any, kind: type) -> Any:
        try:
            value = self._s.value(key, default)
            if kind is int:
                return int(value)
            if kind is str:
                return value if isinstance(value, str) else default
            if kind is list:
                return [str(v) for v in value] if isinstance(value, list) else ([value] if value else [])
        except (TypeError, ValueError):
            return default
        return default

    @property
    def model_id(self) -> str:
        return str(self._get("model/id", DEFAULT_MODEL, str)) or DEFAULT_MODEL

    @model_id.setter
    def model_id(self, value: str) -> None:
        self._s.setValue("model/id", value)

    @property
    def device(self) -> str:
        value = self._get("model/device", "auto", str)
        return value if value in ("auto", "cpu", "cuda", "mps") else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self._s.setValue("model/device", value)

    @property
    def thumb_size(self) -> int:
        return max(64, min(256, self._get("browser/thumb_size", 128, int)))

    @thumb_size.setter
    def thumb_size(self, value: int) -> None:
        self._s.setValue("browser/thumb_size", int(value))

    @property
    def recent(self) -> list[str]:
        return [p for p in self._get("recent/projects", [], list) if p][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        self._s.setValue("recent/projects", [p, *[r for r in self.recent if r != p]][:MAX_RECENT])

    def remove_recent(self, path: str | Path) -> None:
        p = str(path)
        self._s.setValue("recent/projects", [r for r in self.recent if r != p])

    def clear_recent(self) -> None:
        self._s.setValue("recent/projects", [])

    @property
    def embed_after_import(self) -> bool:
        """Compute embeddings on their own after each import (else the window offers it in one click)."""
        return str(self._s.value("model/embed_after_import", "false")).lower() in ("true", "1")

    @embed_after_import.setter
    def embed_after_import(self, value: bool) -> None:
        self._s.setValue("model/embed_after_import", "true" if value else "false")

    @property
    def geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue("window/geometry", value)

    def sync(self) -> None:
        self._s.sync()
