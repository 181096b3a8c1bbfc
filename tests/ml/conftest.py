"""Fixtures for the ml tests: isolated settings, no network, tiny models of each family, a small project.

Everything is built on the fly (no binary fixtures): generated images, random-weight tiny models saved as a
user's model folder would be. Model folders are built once per session; registering them (a JSON write in
the per-test config dir) is per test.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported anywhere: it reads this once
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import tiny_models
from ml_images import write_images

from micview.core.importer import add_folder
from micview.core.store import Project
from micview.core.tasks import run_task

TINY = {"tiny-oc": tiny_models.build_open_clip, "tiny-clip": tiny_models.build_hf_clip,
        "tiny-siglip": tiny_models.build_siglip}  # fmt: skip


class NetworkUsed(AssertionError):
    pass


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-test config dir and empty HF cache; any socket connection fails the test."""
    import huggingface_hub.constants as hf

    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(hf, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))

    def refuse(self: socket.socket, *args: object) -> None:
        raise NetworkUsed(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {model_id: build(root / model_id) for model_id, build in TINY.items()}


@pytest.fixture
def tiny(tiny_dirs: dict[str, Path]) -> dict[str, Path]:
    """The tiny models, registered as ``micview models add`` would (ids: tiny-oc, tiny-clip, tiny-siglip)."""
    from micview.ml.registry import register_folder

    for model_id, folder in tiny_dirs.items():
        register_folder(folder, model_id)
    return tiny_dirs


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_images(tmp_path_factory.mktemp("images"))


@pytest.fixture
def project(tmp_path: Path, image_dir: Path) -> Project:
    """A project over a private copy of the generated images (tests may delete or change files)."""
    folder = shutil.copytree(image_dir, tmp_path / "images")
    p = Project.create(tmp_path / "test.micview")
    run_task(add_folder(p, folder, workers=1))
    yield p
    p.close()


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def effnet():
    """The real default model (EfficientNet-Lite0, packaged ImageNet weights), loaded once."""
    from micview.ml.registry import load_embedder

    return load_embedder("effnet-lite0", device="cpu", precision="float32")


@pytest.fixture(scope="session")
def real_pixels() -> list[np.ndarray]:
    from skimage import data

    return [data.chelsea(), data.coffee(), data.camera(), data.astronaut()]
