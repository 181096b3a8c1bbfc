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


def test_adding_marco_to_the_app_says_it_is_inside(user_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from micview.ml.marco import MarcoError
    from micview.ml.marco.install import add_marco

    monkeypatch.setenv("MICVIEW_BUNDLED_MODELS", str(_bundle(user_config / "app").parent))
    with pytest.raises(MarcoError, match="already inside this app"):
        add_marco()


def test_the_app_never_runs_itself_as_the_converter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from micview.ml.marco import MarcoError
    from micview.ml.marco.install import run_converter

    monkeypatch.delenv("MICVIEW_MARCO_PYTHON", raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(MarcoError, match="needs a Python with TensorFlow; this app has none"):
        run_converter(tmp_path / "savedmodel", tmp_path / "model.onnx")
