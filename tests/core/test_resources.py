"""One lookup for the shipped resources: checkout, installed package (wheel), frozen app, override."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from micview.core import resources
from micview.core.resources import MissingResourcesError, bundled_models_dir, resource, resources_dir

CHECKOUT = Path(__file__).resolve().parents[2]


def test_checkout_finds_the_top_level_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICVIEW_RESOURCES", raising=False)
    assert resources_dir() == CHECKOUT / "resources"
    assert resource("groups", "technique.json").is_file()


def test_installed_package_uses_its_own_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wheel puts resources/ inside the package; a site-packages/resources of another project is never used."""
    package = tmp_path / "site-packages" / "micview"
    (package / "resources" / "prompts").mkdir(parents=True)
    (tmp_path / "site-packages" / "resources").mkdir()  # someone else's top-level folder
    monkeypatch.setattr(resources, "package_dir", lambda: package)
    monkeypatch.delenv("MICVIEW_RESOURCES", raising=False)
    assert resources_dir() == package / "resources"


def test_missing_resources_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "package_dir", lambda: tmp_path / "site-packages" / "micview")
    monkeypatch.delenv("MICVIEW_RESOURCES", raising=False)
    with pytest.raises(MissingResourcesError, match="reinstall micview"):
        resources_dir()


def test_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICVIEW_RESOURCES", str(tmp_path))
    assert resources_dir() == tmp_path


def test_bundled_models_only_in_a_frozen_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICVIEW_BUNDLED_MODELS", raising=False)
    assert bundled_models_dir() is None
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert bundled_models_dir() == tmp_path / "models"
    monkeypatch.setenv("MICVIEW_BUNDLED_MODELS", str(tmp_path / "elsewhere"))
    assert bundled_models_dir() == tmp_path / "elsewhere"
