"""Can the window open here? Asked before Qt starts, because Qt aborts the process (exit 134) when it cannot.

On Linux, Qt needs a display (X11 through ``DISPLAY`` or Wayland through ``WAYLAND_DISPLAY``) and, for X11,
its xcb platform plugin's system libraries, which pip cannot install. Without them Qt prints a message
that names the wrong library and calls ``abort()``. This module finds the cause first, with no Qt imported,
and returns a message that says what to do. ``MICVIEW_SKIP_DISPLAY_CHECK=1`` skips it (a setup it misjudges).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# The system libraries the Qt wheel links against (readelf -d of QtCore/QtGui/QtDBus and the xcb plugin),
# with the Debian/Ubuntu package that provides each.
QT_LIBRARIES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libxkbcommon.so.0": "libxkbcommon0",
}
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
}
ALL_PACKAGES = sorted(set(QT_LIBRARIES.values()) | set(XCB_LIBRARIES.values()))

NO_DISPLAY = (
    "micview: the window cannot open: there is no display here (DISPLAY and WAYLAND_DISPLAY are not set, as on a "
    "server or in an SSH session without X forwarding).\n"
    "  - On a desktop, start micview from a terminal of the desktop session, or connect with `ssh -X`.\n"
    "  - For scripts and tests, set QT_QPA_PLATFORM=offscreen (the window is drawn off screen).\n"
    "  - Every command works without a window: `micview --help` lists them."
)

NO_CONNECTION = (
    "micview: the window cannot open: no X server answers at DISPLAY={display} (it closed, or this SSH session "
    "has no X forwarding).\n"
    "  - Log in again with `ssh -X`, or start micview from a terminal of the desktop session.\n"
    "  - For scripts and tests, set QT_QPA_PLATFORM=offscreen (the window is drawn off screen).\n"
    "  - Every command works without a window: `micview --help` lists them."
)


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(libraries: Mapping[str, str], loads: Callable[[str], bool] = _loads) -> list[str]:
    """The sonames in ``libraries`` that the dynamic loader cannot find."""
    return [soname for soname in libraries if not loads(soname)]


def _missing_message(missing: list[str], libraries: Mapping[str, str]) -> str:
    packages = sorted({libraries[s] for s in missing})
    return (
        f"micview: the window cannot open: Qt needs system libraries that are not installed: {', '.join(missing)}.\n"
        f"  Debian/Ubuntu: sudo apt-get install {' '.join(packages)}\n"
        f"  (all the ones Qt uses: sudo apt-get install {' '.join(ALL_PACKAGES)})\n"
        "  Other systems: install the packages that provide these libraries (their X11/xcb and OpenGL libraries).\n"
        "  For scripts and tests, QT_QPA_PLATFORM=offscreen needs fewer of them. Every command works without a "
        "window: `micview --help` lists them."
    )


def _platforms(env: Mapping[str, str]) -> list[str]:
    """The Qt platform plugins in the order Qt will try them (``QT_QPA_PLATFORM`` may hold ``a;b`` and options)."""
    chosen = [p.split(":")[0].strip() for p in env.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if chosen:
        return chosen
    wayland_session = env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY")
    return ["wayland", "xcb"] if wayland_session else ["xcb"]


def _xcb_connects(display: str) -> bool:
    """Whether an X server answers at ``display`` (libxcb directly: no Qt, no abort). True when unsure."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # the missing library is reported next
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        return bool(conn) and xcb.xcb_connection_has_error(conn) == 0
    finally:
        if conn:
            xcb.xcb_disconnect(conn)


def display_problem(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    loads: Callable[[str], bool] = _loads,
    connects: Callable[[str], bool] = _xcb_connects,
) -> str | None:
    """Why Qt could not open a window here, with what to do; ``None`` when it should open (or we cannot tell)."""
    env = os.environ if env is None else env
    if not (platform or sys.platform).startswith("linux") or env.get("MICVIEW_SKIP_DISPLAY_CHECK"):
        return None
    if missing := missing_libraries(QT_LIBRARIES, loads):
        return _missing_message(missing, QT_LIBRARIES)
    platforms = _platforms(env)
    first = platforms[0]
    if first.startswith("wayland"):
        if env.get("WAYLAND_DISPLAY"):
            return None
        if "xcb" not in platforms:
            return NO_DISPLAY
        first = "xcb"  # Qt falls back to the next plugin in the list
    if first != "xcb":  # offscreen, minimal, vnc, eglfs...: chosen on purpose, need no display
        return None
    display = env.get("DISPLAY")
    if not display:
        return NO_DISPLAY
    if not connects(display):
        return NO_CONNECTION.format(display=display)
    if missing := missing_libraries(XCB_LIBRARIES, loads):
        return _missing_message(missing, XCB_LIBRARIES)
    return None
