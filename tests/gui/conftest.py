"""GUI test fixtures: offscreen Qt, isolated settings and config, generated images, a ready project window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import wait_job

from micview.core.sample_data import write_sample


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Per-test QSettings (INI in tmp), model config dir and app-data dir: tests never see a user's settings."""
    from PySide6.QtCore import QStandardPaths

    from micview.gui.settings import use_ini_folder

    folder = tmp_path / "settings"
    use_ini_folder(folder)
    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    QStandardPaths.setTestModeEnabled(True)
    return folder


@pytest.fixture(scope="session")
def generated_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 small generated images (4 grains, 4 particles, 4 lamellae; some 16-bit calibrated TIFFs)."""
    return write_sample(tmp_path_factory.mktemp("generated") / "images", per_kind=4, size=96)


@pytest.fixture
def images(tmp_path: Path, generated_images: Path) -> Path:
    return Path(shutil.copytree(generated_images, tmp_path / "images"))


@pytest.fixture
def window(qtbot) -> Iterator[object]:
    from micview.gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.scatter.method_combo.setCurrentIndex(w.scatter.method_combo.findData("pca"))  # UMAP: one slow test only
    w.show()
    yield w
    w.session.jobs.cancel_all()
    w.session.jobs.wait(30_000)
    if w.viewer is not None:
        w.viewer.close()
    w.close()


@pytest.fixture
def project_window(qtbot, window, images: Path):
    """The window with a project made from ``images``, imported (not embedded)."""
    job = window.ctl.project.new_from_folder(images)
    wait_job(qtbot, job)
    qtbot.waitUntil(lambda: len(window.browser.model.rows) == 12)
    return window


@pytest.fixture
def embedded_window(qtbot, project_window):
    """... embedded with the default model (real EfficientNet-Lite0) and showing the PCA map."""
    w = project_window
    wait_job(qtbot, w.ctl.maps.embed())
    qtbot.waitUntil(lambda: len(w.scatter.ids) == 12, timeout=30_000)
    return w
