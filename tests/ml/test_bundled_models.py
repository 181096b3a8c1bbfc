"""The frozen app's own MARCO (converted at build time) is found before a MARCO the user added."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from micview.ml import config
from micview.ml.registry import all_models, get_spec, locate


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


def _bundle(root: Path) -> Path:
    folder = root / "models" / "marco"
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"not really onnx")
    (folder / "marco.json").write_text(json.dumps({"weights_hash": "sha256:0"}))
    return folder


def test_bundled_marco_comes_first(user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = user_config / "users-marco"
    users.mkdir()
    config.write_json(config.MODELS_FILE, {"models": {"marco": {"family": "marco", "dim": 1056, "has_text": False,
                                                                "path": str(users)}}})  # fmt: skip
    assert locate(get_spec("marco")) == users
    bundled = _bundle(user_config / "app")
    monkeypatch.setenv("MICVIEW_BUNDLED_MODELS", str(bundled.parent))
    assert locate(get_spec("marco")) == bundled
    assert [s.id for s in all_models()].count("marco") == 1


def test_no_bundle_no_entry(user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICVIEW_BUNDLED_MODELS", str(user_config / "empty"))
    assert "marco" not in [s.id for s in all_models()]
