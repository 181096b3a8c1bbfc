"""Which process started a run, and whether that process still lives.

A run is recorded as ``running`` before its work starts; if the process is killed, nothing sets it to ``done``
or ``cancelled``. Each run therefore stores its owner — host, process id and the process's start time — and the
next open marks ``interrupted`` the running runs whose owner is gone. The start time guards against a reused
process id. A run from another computer (a project on a shared drive) is left alone: its owner cannot be asked.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path


def _linux_start(pid: int) -> str | None:
    """Boot id and start tick of ``pid`` on Linux (None when no such process, or it is a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent: dead for our purpose
        return None
    return f"{boot}:{fields[19]}"


def _windows_start(pid: int) -> str | None:
    """Creation time of a live ``pid`` on Windows (None when it has ended)."""
    if sys.platform != "win32":
        return None
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return None
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) or code.value != 259:  # STILL_ACTIVE
            return None
        times = [wintypes.FILETIME() for _ in range(4)]
        kernel32.GetProcessTimes(handle, *(ctypes.byref(t) for t in times))
        return f"{times[0].dwHighDateTime}:{times[0].dwLowDateTime}"
    finally:
        kernel32.CloseHandle(handle)


def _start_token(pid: int) -> str | None:
    """A token that changes when ``pid`` is reused; ``""`` where the platform gives none; None: not running."""
    if sys.platform == "win32":
        return _windows_start(pid)
    if sys.platform.startswith("linux"):
        return _linux_start(pid)
    try:
        os.kill(pid, 0)  # POSIX: signal 0 only asks whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


def current_owner() -> str:
    """This process, as stored with a run it starts."""
    return f"{socket.gethostname()}|{os.getpid()}|{_start_token(os.getpid()) or ''}"


def owner_is_gone(owner: str | None) -> bool:
    """True when the process that started a run has certainly ended.

    ``None`` (a run recorded before owners were stored) counts as gone: no process of that micview can still be
    writing to a project this micview has upgraded. Another host's process is never called gone.
    """
    if not owner:
        return True
    parts = owner.rsplit("|", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    _, pid_text, token = parts
    now = _start_token(int(pid_text))
    if now is None:
        return True
    return bool(token) and bool(now) and now != token
