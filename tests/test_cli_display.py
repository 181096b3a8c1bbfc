"""`micview` with no usable display: a message that says what to do and exit 1, never Qt's abort (exit 134)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from micview.cli import _display, main
from micview.cli._display import QT_LIBRARIES, XCB_LIBRARIES, display_problem


def _all_load(soname: str) -> bool:
    return True


def _answers(soname: str) -> bool:
    return True


def test_no_display_at_all() -> None:
    msg = display_problem({}, "linux", _all_load, _answers)
    assert msg is not None and "no display" in msg and "QT_QPA_PLATFORM=offscreen" in msg


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "vnc:size=800x600", "eglfs"])
def test_a_chosen_platform_needs_no_display(platform: str) -> None:
    assert display_problem({"QT_QPA_PLATFORM": platform}, "linux", _all_load, _answers) is None


def test_x11_display_with_every_library() -> None:
    assert display_problem({"DISPLAY": ":0"}, "linux", _all_load, _answers) is None
    assert display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", _all_load, _answers) is None


def test_x11_display_that_does_not_answer() -> None:
    msg = display_problem({"DISPLAY": "localhost:10.0"}, "linux", _all_load, lambda d: False)
    assert msg is not None and "no X server answers at DISPLAY=localhost:10.0" in msg and "ssh -X" in msg


def test_missing_xcb_libraries_are_named_with_their_packages() -> None:
    def loads(soname: str) -> bool:
        return soname not in ("libxcb-cursor.so.0", "libxcb-icccm.so.4")

    msg = display_problem({"DISPLAY": ":0"}, "linux", loads, _answers)
    assert msg is not None
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in msg
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4\n" in msg
    # The offscreen platform does not need the xcb libraries.
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", loads, _answers) is None


def test_missing_core_qt_libraries_matter_for_every_platform() -> None:
    def loads(soname: str) -> bool:
        return soname != "libEGL.so.1"

    msg = display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", loads, _answers)
    assert msg is not None and "libEGL.so.1" in msg and "libegl1" in msg


def test_wayland() -> None:
    wayland = {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}
    assert display_problem(wayland, "linux", _all_load, lambda d: False) is None
    assert display_problem({"QT_QPA_PLATFORM": "wayland"}, "linux", _all_load, _answers) is not None
    # "wayland;xcb" without a Wayland compositor falls back to X11.
    fallback = {"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":1"}
    assert display_problem(fallback, "linux", _all_load, _answers) is None


def test_other_systems_and_the_escape_hatch() -> None:
    assert display_problem({}, "darwin", _all_load, _answers) is None
    assert display_problem({}, "win32", _all_load, _answers) is None
    assert display_problem({"MICVIEW_SKIP_DISPLAY_CHECK": "1"}, "linux", _all_load, _answers) is None


def test_main_stops_before_qt(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(_display, "display_problem", lambda: "micview: the window cannot open: test")
    monkeypatch.setitem(sys.modules, "micview.gui.app", None)  # importing the GUI would fail the test
    assert main([]) == 1
    assert "the window cannot open: test" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux")
def test_real_start_without_display_exits_1(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["MICVIEW_LOG_DIR"] = str(tmp_path)
    run = subprocess.run([sys.executable, "-m", "micview"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "no display" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf")
def test_every_system_library_of_the_qt_wheel_is_known() -> None:
    """Guards a PySide6 upgrade: each library the xcb plugin and QtGui/QtCore/QtDBus link against has a package."""
    pyside = pytest.importorskip("PySide6")
    qt = Path(pyside.__file__).parent / "Qt"
    files = [qt / "plugins" / "platforms" / "libqxcb.so", *(qt / "lib").glob("libQt6XcbQpa.so.6")]
    files += [qt / "lib" / f"libQt6{m}.so.6" for m in ("Core", "Gui", "DBus", "Widgets", "OpenGL")]
    needed: set[str] = set()
    for f in files:
        if not f.exists():
            continue
        out = subprocess.run(["readelf", "-d", str(f)], capture_output=True, text=True, check=True).stdout
        needed |= {line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line}
    ignored = ("libQt6", "libc.so", "libm.so", "libstdc++", "libgcc_s", "ld-linux", "libicu", "libz.so", "libzstd")
    system = {n for n in needed if not n.startswith(ignored) and "gthread" not in n}
    assert system, "readelf found no libraries"
    assert system <= set(QT_LIBRARIES) | set(XCB_LIBRARIES)
