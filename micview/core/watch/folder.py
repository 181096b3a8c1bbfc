"""Watching one folder for new and changed image files, on a local disk or a network share.

Library: **watchdog** (Apache-2.0, pure Python, maintained since 2010): native events on every desktop system
(inotify, FSEvents, ReadDirectoryChangesW) and, with the same API, a :class:`PollingObserver` that compares
directory listings, for network shares (SMB/CIFS, NFS) where the server's changes raise no local event. Events
only *wake* the watcher; what counts is what a look at the file finds (:mod:`.readiness`), so a missed or
duplicated event changes nothing, and a full re-scan every ``rescan_s`` catches anything events missed
(an inotify queue overflow, a rename storm).

The folder may vanish and come back (a network share dropping, a USB disk unplugged, the folder recreated):
while it is gone the watcher only checks every ``poll_s`` whether it is back, then starts a new observer
and re-scans. A folder replaced by another one (a new device or inode) counts as gone and back.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micview.core.file_scan import FoundFile, normalise_extensions, scan
from micview.core.watch.readiness import Readiness

NETWORK_FS = frozenset({"cifs", "smb3", "smbfs", "nfs", "nfs4", "afs", "9p", "fuse.sshfs", "davfs", "fuse.rclone"})


@dataclass
class Look:
    """What one :meth:`FolderWatcher.poll` found."""

    ready: list[FoundFile] = field(default_factory=list)  # complete files, each once per content version
    vanished: bool = False  # the folder just became unreachable
    returned: bool = False  # the folder just came back
    reachable: bool = True


def is_network_path(path: Path) -> bool:
    """Whether ``path`` is on a network share (there, native events miss the server's changes: poll)."""
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return True
    if sys.platform == "win32":
        import ctypes

        drive = os.path.splitdrive(os.path.abspath(text))[0] + "\\"
        return bool(ctypes.windll.kernel32.GetDriveTypeW(drive) == 4)  # type: ignore[attr-defined]  # REMOTE
    return _mount_type(path) in NETWORK_FS


def _mount_type(path: Path) -> str:
    """File-system type of the mount holding ``path`` (Linux ``/proc/mounts``; empty elsewhere)."""
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    target, best, kind = os.path.realpath(path), "", ""
    for line in lines:
        parts = line.split()
        if len(parts) >= 3:
            mount = parts[1].replace("\\040", " ")
            inside = target == mount or target.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, kind = mount, parts[2]
    return kind


class _Wake:
    """watchdog handler (runs on the observer's thread): note which paths changed and wake the watcher."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self._w = watcher

    def dispatch(self, event: Any) -> None:
        paths = [event.src_path, getattr(event, "dest_path", "")]
        self._w._note([os.fsdecode(p) for p in paths if p], is_dir=bool(event.is_directory))


class FolderWatcher:
    """New and changed image files under ``root``, each reported once it is completely written.

    Parameters
    ----------
    polling
        ``True``: compare listings every ``poll_s`` (network shares); ``False``: native events;
        ``None`` (default): polling when ``root`` is on a network file system.
    settle_s
        A file is complete when its size and mtime did not change for this long (:mod:`.readiness`).
    rescan_s
        A full listing this often, whatever the events said.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        recursive: bool = True,
        extensions: Iterable[str] | None = None,
        polling: bool | None = None,
        poll_s: float = 1.0,
        settle_s: float = 0.5,
        give_up_s: float = 30.0,
        rescan_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = Path(root)
        self.recursive = recursive
        self.extensions = sorted(normalise_extensions(extensions))
        self.polling = is_network_path(self.root) if polling is None else polling
        self.poll_s, self.rescan_s = poll_s, rescan_s
        self.readiness = Readiness(settle_s, give_up_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._dirty: set[Path] = set()
        self._rescan = True
        self._wake = threading.Event()
        self._observer: Any = None
        self._identity: tuple[int, int] | None = None
        self._reachable = True
        self._last_scan = float("-inf")

    # -- life cycle ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start watching (events from now on; existing files are looked at by the first :meth:`poll`)."""
        self._identity = self._folder_identity()
        self._reachable = self._identity is not None
        if self._reachable:
            self._start_observer()

    def close(self) -> None:
        """Stop the observer thread (idempotent)."""
        observer, self._observer = self._observer, None
        if observer is not None:
            try:
                observer.stop()
                observer.join(5.0)
            except Exception:  # an observer of a vanished folder may fail to stop cleanly; it is a daemon anyway
                pass

    def __enter__(self) -> FolderWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def mode(self) -> str:
        return f"polling every {self.poll_s:g} s" if self.polling else "file-system events"

    def _start_observer(self) -> None:
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        observer = PollingObserver(timeout=self.poll_s) if self.polling else Observer()
        observer.daemon = True
        try:
            observer.schedule(_Wake(self), str(self.root), recursive=self.recursive)  # type: ignore[arg-type]
            observer.start()
        except OSError:  # vanished between the check and the start, or too many inotify watches
            self._rescan = True
            return
        self._observer = observer

    def _folder_identity(self) -> tuple[int, int] | None:
        try:
            st = self.root.stat()
        except OSError:
            return None
        import stat

        return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None

    # -- events (observer thread) --------------------------------------------------------------------------
    def _note(self, paths: list[str], *, is_dir: bool) -> None:
        with self._lock:
            if is_dir:
                self._rescan = True  # a folder created, moved in or deleted: list it again
            else:
                self._dirty.update(Path(p) for p in paths if self._wanted(p))
        self._wake.set()

    def _wanted(self, path: str) -> bool:
        """An image file :func:`~micview.core.file_scan.scan` would list (hidden names are temporary files)."""
        if os.path.splitext(path)[1].lower() not in self.extensions:
            return False
        return not any(part.startswith(".") for part in Path(os.path.relpath(path, self.root)).parts)

    # -- looking (caller's thread) -------------------------------------------------------------------------
    def poll(self, timeout: float = 1.0) -> Look:
        """Wait up to ``timeout`` seconds for something to happen, then report complete files."""
        look = self._check_folder()
        if not look.reachable or look.vanished:
            if look.vanished:
                return look
            self._wake.wait(min(timeout, self.poll_s))
            return look
        due = self.readiness.next_due(self._clock())
        wait = timeout if due is None else min(timeout, due)
        if self._wake.wait(max(0.0, wait)):
            self._wake.clear()
        self._look_at_files()
        look.ready = self.readiness.ready(self._clock())
        return look

    def _check_folder(self) -> Look:
        identity = self._folder_identity()
        if identity is None:
            if not self._reachable:
                return Look(reachable=False)
            self._reachable = False
            self.close()
            for path in self.readiness.pending():
                self.readiness.forget(path)
            return Look(vanished=True, reachable=False)
        if not self._reachable or identity != self._identity:  # back, or replaced by another folder
            self.close()
            self._identity, self._reachable, self._rescan = identity, True, True
            self._start_observer()
            return Look(returned=True)
        if self._observer is None:
            self._start_observer()
        return Look()

    def _look_at_files(self) -> None:
        now = self._clock()
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            rescan = self._rescan or now - self._last_scan >= self.rescan_s
            self._rescan = False
        if rescan:
            self._last_scan = now
            found = scan(self.root, recursive=self.recursive, extensions=self.extensions).files
            listed = {f.path for f in found}
            for path in self.readiness.pending():
                if path not in listed:
                    self.readiness.forget(path)
            for f in found:
                self.readiness.observe(f.path, f.size, f.mtime, now)
            dirty -= listed
        for path in dirty | (set(self.readiness.pending()) if not rescan else set()):
            self._stat(path, now)

    def _stat(self, path: Path, now: float) -> None:
        import stat

        try:
            st = path.stat()
        except OSError:
            self.readiness.forget(path)
            return
        if stat.S_ISREG(st.st_mode):
            self.readiness.observe(path, st.st_size, st.st_mtime, now)
