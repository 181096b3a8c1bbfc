"""The one job system: runs core/ml generator tasks off the GUI thread (a small superqt ``GeneratorWorker``).

A job is a *factory* returning a generator task (:mod:`micview.core.tasks`): the factory is called on the
worker thread, so anything it opens there (its own :class:`~micview.core.store.Project` connection — SQLite
connections belong to one thread) lives and dies on that thread. The worker checks the job's cancel flag at
every ``yield`` and closes the generator there, so the task's own clean-up (committing its last batch) runs.

Workers never touch widgets and never call ``processEvents``; they only emit signals, which Qt queues to the
GUI thread. Three pools: ``io`` for file work, ``model`` with ONE thread, so two model jobs never share the
device (or fight over CPU cores) at once, and ``project`` (one thread) for opening a project, which must not
queue behind imports.

Memory: results can be large (full-resolution frames, maps, retrained models). A job hands its result to
``on_result`` (and the ``returned`` signal) once, on the GUI thread, and then drops it; a finished job leaves
:attr:`JobManager.jobs` at once, and only a line of text about it stays in :attr:`JobManager.history`.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from micview.core.errors import Cancelled, MicviewError, ProjectDamagedError
from micview.core.store.integrity import damage_error
from micview.core.tasks import Progress

TaskFactory = Callable[[], Generator[Progress, None, Any]]
ResultCallback = Callable[[Any], object]
ErrorCallback = Callable[[str, str], object]
CancelCallback = Callable[[], object]
HISTORY = 50  # finished jobs the jobs panel lists (text only)
_ids = itertools.count(1)


class _Signals(QObject):
    """Emitted on the worker thread; connected to :class:`Job` slots, so Qt queues them to the GUI thread."""

    yielded = Signal(object)
    done = Signal()


@dataclass(frozen=True, slots=True)
class JobRecord:
    """What stays of a finished job: text only (no result, no factory)."""

    id: int
    title: str
    state: str  # done | failed | cancelled
    message: str
    seconds: float
    quiet: bool


class Job(QObject):
    """One background task as the GUI sees it: title, state, last progress, and its signals.

    ``yielded(Progress)`` while it runs; then exactly one of ``returned(result)``, ``errored(message, details)``
    (``details`` is empty for a :class:`MicviewError` and for a read that reached a damaged page of the project
    file, which also sets ``damaged``; a traceback otherwise) or ``cancelled()``; then ``finished()``.
    ``state_changed(job)`` accompanies each progress step and the end (the manager listens).
    """

    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(str, str)
    cancelled = Signal()
    finished = Signal()
    state_changed = Signal(object)

    def __init__(
        self,
        title: str,
        factory: TaskFactory,
        *,
        pool: str = "io",
        quiet: bool = False,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_cancel: CancelCallback | None = None,
    ) -> None:
        super().__init__()
        self.id = next(_ids)
        self.title, self.pool, self.quiet = title, pool, quiet
        self.factory: TaskFactory | None = factory
        self.on_result, self.on_error, self.on_cancel = on_result, on_error, on_cancel
        self.state = "queued"
        self.final_state = "queued"  # written by the worker, applied on the GUI thread
        self.progress = Progress(0, 0, "Waiting…")
        self.error: tuple[str, str] | None = None
        self.project_path: Path | None = None  # the project open when the job started (named in damage messages)
        self.damaged = False  # it failed because that project file is damaged
        self.result: Any = None  # only between the worker's return and its delivery on the GUI thread
        self.started = time.monotonic()
        self._cancel = threading.Event()
        self.worker_signals = _Signals()
        self.worker_signals.yielded.connect(self._on_worker_yielded)
        self.worker_signals.done.connect(self._on_worker_done)

    def cancel(self) -> None:
        """Ask the job to stop at its next progress point (thread-safe; the task keeps what it committed)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    def record(self) -> JobRecord:
        message = self.error[0] if self.error else self.progress.message
        return JobRecord(self.id, self.title, self.state, message, time.monotonic() - self.started, self.quiet)

    # Re-emitted from the GUI thread, so whatever users connect (lambdas included) runs there.
    @Slot(object)
    def _on_worker_yielded(self, progress: Progress) -> None:
        self.progress = progress
        self.yielded.emit(progress)
        self.state_changed.emit(self)

    @Slot()
    def _on_worker_done(self) -> None:
        self.state = self.final_state
        result, self.result = self.result, None  # delivered once, then released
        on_result, on_error, on_cancel = self.on_result, self.on_error, self.on_cancel
        self.on_result = self.on_error = self.on_cancel = None
        if self.state == "done":
            self.returned.emit(result)
            if on_result is not None:
                on_result(result)
        elif self.state == "failed" and self.error is not None:
            self.errored.emit(*self.error)
            if on_error is not None:
                on_error(*self.error)
        else:
            self.cancelled.emit()
            if on_cancel is not None:
                on_cancel()
        del result
        self.state_changed.emit(self)
        self.finished.emit()


class _Runner(QRunnable):
    """Drives one job's generator on a pool thread and reports through the job's signals."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job: Job | None = job

    def run(self) -> None:
        job, self.job = self.job, None
        assert job is not None
        factory, job.factory = job.factory, None
        final = "cancelled"
        try:
            if not job.cancel_requested and factory is not None:
                job.state = "running"
                result = self._drive(job, factory)
                del factory
                if result is not _CANCELLED:
                    job.result, final = result, "done"
                del result
        except Cancelled:
            final = "cancelled"
        except MicviewError as exc:
            final, job.error = "failed", (str(exc), "")
            path = job.project_path
            job.damaged = isinstance(exc, ProjectDamagedError) and path is not None and str(exc).startswith(str(path))
        except Exception as exc:  # a bug must be reported, not crash the application
            damaged = damage_error(exc, job.project_path)  # a read that reached a damaged page is no bug
            if damaged is not None:
                final, job.error, job.damaged = "failed", (str(damaged), ""), True
            else:
                final, job.error = "failed", (f"{type(exc).__name__}: {exc}", traceback.format_exc())
        # The end state is set on the GUI thread when `done` arrives (after every queued `yielded`), so
        # `job.done` never turns true while signals of the job are still in flight.
        job.final_state = final
        with contextlib.suppress(RuntimeError):  # the window (and the job) was destroyed meanwhile: nobody to tell
            job.worker_signals.done.emit()

    @staticmethod
    def _drive(job: Job, factory: TaskFactory) -> Any:
        gen = factory()
        while True:
            try:
                progress = next(gen)
            except StopIteration as stop:
                return stop.value
            job.worker_signals.yielded.emit(progress)
            if job.cancel_requested:
                gen.close()  # GeneratorExit at the paused yield: the task saves its last batch
                return _CANCELLED


_CANCELLED = object()


class JobManager(QObject):
    """Starts jobs on the right pool; lists the running ones and a short text history of finished ones.

    ``added(job)`` when a non-quiet job starts, ``changed(job)`` on its progress and at its end,
    ``removed(job)`` just after it finished and left :attr:`jobs`.
    """

    added = Signal(object)
    changed = Signal(object)
    removed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: list[Job] = []  # queued and running only
        self.history: deque[JobRecord] = deque(maxlen=HISTORY)
        self.project_path: Path | None = None  # the open project (kept by gui/safety.py), for damage messages
        self._pools = {"io": QThreadPool(self), "model": QThreadPool(self), "project": QThreadPool(self)}
        self._pools["io"].setMaxThreadCount(2)
        self._pools["model"].setMaxThreadCount(1)  # one model at a time on the device
        self._pools["project"].setMaxThreadCount(1)  # opening a project never waits behind a long import

    def start(
        self,
        title: str,
        factory: TaskFactory,
        *,
        pool: str = "io",
        quiet: bool = False,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_cancel: CancelCallback | None = None,
    ) -> Job:
        """Queue ``factory``'s task. ``on_result(result)``, ``on_error(message, details)`` or ``on_cancel()``
        runs on the GUI thread when it ends (the job's signals are emitted too); the result is not kept."""
        job = Job(title, factory, pool=pool, quiet=quiet, on_result=on_result, on_error=on_error, on_cancel=on_cancel)
        job.project_path = self.project_path
        job.state_changed.connect(self._on_job_state_changed)
        self.jobs.append(job)
        if not quiet:
            self.added.emit(job)
        self._pools[pool].start(_Runner(job))
        return job

    def _on_job_state_changed(self, job: Job) -> None:
        self.changed.emit(job)
        if job.done and job in self.jobs:
            self.jobs.remove(job)
            self.history.appendleft(job.record())
            self.removed.emit(job)

    def running(self) -> list[Job]:
        return [j for j in self.jobs if not j.done]

    def cancel_all(self) -> None:
        for job in self.running():
            job.cancel()

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until every pool is idle (used at exit and in tests, after :meth:`cancel_all`)."""
        return all(pool.waitForDone(msecs) for pool in self._pools.values())
