"""Job bodies for keeping a project safe from the window: check, salvage, save a copy, back up, restore.

The core functions (:mod:`micview.core.store`) are plain calls, some with a ``progress(done, total)``
callback; the job system wants generator tasks that yield :class:`~micview.core.tasks.Progress`. So
:func:`with_progress` runs the call on a helper thread and yields its progress as it comes. Each call opens its
own SQLite connections on that thread. A cancel makes the next progress callback raise
:class:`~micview.core.errors.Cancelled` (the core removes its half-written copy); a call without a callback
(salvage) is waited for, and what it wrote is then removed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from micview.core.errors import Cancelled
from micview.core.store import (
    BackupInfo,
    HealthReport,
    RestoreResult,
    SalvageReport,
    backup_project,
    check_project,
    copy_project,
    restore_backup,
    salvage,
)  # fmt: skip
from micview.core.store.sqlite_files import side_file
from micview.core.tasks import Progress, Task

T = TypeVar("T")
ProgressFn = Callable[[int, int], None]
_POLL_S = 0.25


def with_progress(
    work: Callable[[ProgressFn], T], message: str, estimate: Callable[[], tuple[int, int]] | None = None
) -> Task[T]:
    """Run ``work(progress)`` on a helper thread; yield its ``progress(done, total)`` calls as :class:`Progress`.

    ``estimate()``, when given, is polled a few times a second for work that reports nothing itself.
    """
    updates: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
    outcome: dict[str, Any] = {}
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if stop.is_set():
            raise Cancelled("Cancelled; nothing was written.")
        updates.put((done, total))

    def run() -> None:
        try:
            outcome["value"] = work(progress)
        except BaseException as exc:  # handed to the job, on its own thread
            outcome["error"] = exc
        finally:
            updates.put(None)

    helper = threading.Thread(target=run, name=f"micview: {message}", daemon=True)
    helper.start()
    try:
        yield Progress(0, 0, message)
        while True:
            try:
                item = updates.get(timeout=_POLL_S)
            except queue.Empty:
                if estimate is not None:
                    yield Progress(*estimate(), message)
                continue
            if item is None:
                break
            yield Progress(item[0], item[1], message)
    finally:
        stop.set()
        helper.join()  # a cancel waits for the helper: nothing runs on after the job has ended
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def check(path: Path) -> Task[HealthReport]:
    """The full check ``micview check`` runs (SQLite's integrity check, schema, links), read-only."""
    return (yield from with_progress(lambda _p: check_project(path), f"Checking {path.name}"))


def save_copy(path: Path, dest: Path) -> Task[Path]:
    """A consistent one-file copy of the project (labels still in its ``-wal`` included); replaces ``dest``."""
    return (yield from with_progress(lambda p: copy_project(path, dest, overwrite=True, progress=p),
                                     f"Copying to {dest.name}"))  # fmt: skip


def salvage_into(path: Path, dest: Path) -> Task[SalvageReport]:
    """Copy what is readable of a damaged project into ``dest`` (replaced when it exists, as the file dialog asked).

    The new project is written under a temporary name beside ``dest`` and renamed into place when complete, so a
    cancel or a failure leaves ``dest`` as it was. Salvage reports no progress itself; the new file's size
    against the damaged one's is a fair estimate.
    """
    total = max(_size(path), 1)
    part = dest.with_name(f".{dest.stem}.part{os.getpid()}.micview")

    def estimate() -> tuple[int, int]:
        written = _size(part) + _size(side_file(part, "-wal"))
        return min(written, total * 99 // 100) // 1024, total // 1024

    try:
        report = yield from with_progress(lambda _p: salvage(path, part), f"Saving what is readable into {dest.name}",
                                          estimate)  # fmt: skip
        os.replace(part, dest)
    finally:
        for leftover in (part, side_file(part, "-wal"), side_file(part, "-shm")):
            with contextlib.suppress(OSError):  # a read-only place refuses even to unlink what is not there
                leftover.unlink(missing_ok=True)
    report.dest = dest
    return report


def back_up(path: Path) -> Task[Path]:
    """A backup made by hand (kept until the user deletes it), beside the project."""
    return (yield from with_progress(lambda _p: backup_project(path, reason="manual"), f"Backing up {path.name}"))


def restore(path: Path, backup: BackupInfo | Path) -> Task[RestoreResult]:
    """Put a backup back into the project; what the project holds now is backed up first (``before-restore``)."""
    source = backup.path if isinstance(backup, BackupInfo) else backup
    return (yield from with_progress(lambda _p: restore_backup(path, source), f"Restoring {source.name}"))
