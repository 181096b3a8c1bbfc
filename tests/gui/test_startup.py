"""Start-up stays fast: the window's modules import no torch/umap/sklearn; the app starts and quits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "transformers", "open_clip", "timm", "umap", "sklearn", "numba")


def test_main_window_import_loads_no_torch() -> None:
    code = "import micview.gui.main_window, micview.gui.app, sys; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not {m.split(".")[0] for m in out} & set(HEAVY)


def test_smoke_start_shows_window_and_exits_0(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MICVIEW_SMOKE_TEST": "1", "XDG_CONFIG_HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "micview"], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "first window shown" in run.stdout


def test_bad_settings_file_never_stops_start_up(qtbot, isolated_settings: Path) -> None:
    from micview.gui.main_window import MainWindow
    from micview.gui.settings import Settings

    ini = isolated_settings / "micview" / "micview.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_bytes(b"[browser]\nthumb_size=huge\n[recent]\nprojects=@Invalid(\x00\xff\n[model\ngarbage")
    window = MainWindow(Settings())
    qtbot.addWidget(window)
    assert window.settings.thumb_size == 128 and window.settings.model_id == "effnet-lite0"


def test_recent_projects_persist(isolated_settings: Path, tmp_path: Path) -> None:
    from micview.gui.settings import Settings

    for name in ("a", "b", "a"):
        Settings().add_recent(tmp_path / f"{name}.micview")
    assert Settings().recent == [str(tmp_path / "a.micview"), str(tmp_path / "b.micview")]
