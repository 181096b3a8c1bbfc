"""The one job system: runs core/ml generator tasks off the GUI thread (a small superqt ``GeneratorWorker``).

A job is a *factory* returning a generator task (:mod:`micview.core.tasks`): the factory is called on the
worker thread, so anything it opens there (its own :class:`~micview.core.store.Project` connection — SQLite
connections belong to one thread) lives and dies on that thread. The worker checks the job's cancel flag at
every ``yield`` and closes the generator there, so the task's own clean-up (committing its last batch) runs.

Workers never touch widgets and never call ``processEvents``; they only emit signals, which Qt queues to the
GUI thread. Two pools: ``io`` for file work, and ``model`` with ONE thread, so two model jobs never share the
device (or fight over CPU cores) at once.
"""

from __future__ import annotations

import itertools
import threading
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from micview.core.errors import Cancelled, MicviewError
from micview.core.tasks import Progress

TaskFactory = Callable[[], Generator[Progress, None, Any]]
_ids = itertools.count(1)


class _Signals(QObject):
    """Emitted on the worker thread; connected to :class:`Job` slots, so Qt queues them to the GUI thread."""

    yielded = Signal(object)
    done = Signal()


class Job(QObject):
    """One background task as the GUI sees it: title, state, last progress, and its signals.

    ``yielded(Progress)`` while it runs; then exactly one of ``returned(result)``, ``errored(message, details)``
    (``details`` is empty for a :class:`MicviewError`, a traceback otherwise) or ``cancelled()``; then
    ``finished()``.
    """

    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(str, str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, factory: TaskFactory, *, pool: str = "io", quiet: bool = False) -> None:
        super().__init__()
        self.id = next(_ids)
        self.title, self.pool, self.quiet = title, pool, quiet
        self.factory = factory
        self.state = "queued"
        self.final_state = "queued"  # written by the worker, applied on the GUI thread
        self.progress = Progress(0, 0, "Waiting…")
        self.error: tuple[str, str] | None = None
        self.result: Any = None
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

    # Re-emitted from the GUI thread, so whatever users connect (lambdas included) runs there.
    @Slot(object)
    def _on_worker_yielded(self, progress: Progress) -> None:
        self.progress = progress
        self.yielded.emit(progress)

    @Slot()
    def _on_worker_done(self) -> None:
        self.state = self.final_state
        if self.state == "done":
            self.returned.emit(self.result)
        elif self.state == "failed" and self.error is not None:
            self.errored.emit(*self.error)
        else:
            self.result = None
            self.cancelled.emit()
        self.finished.emit()


class _Runner(QRunnable):
    """Drives one job's generator on a pool thread and reports through the job's signals."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def run(self) -> None:
        job = self.job
        final = "cancelled"
        try:
            if not job.cancel_requested:
                job.state = "running"
                job.result = self._drive(job)
                final = "cancelled" if job.cancel_requested and job.result is _CANCELLED else "done"
        except Cancelled:
            final = "cancelled"
        except MicviewError as exc:
            final, job.error = "failed", (str(exc), "")
        except Exception as exc:  # a bug must be reported, not crash the application
            final, job.error = "failed", (f"{type(exc).__name__}: {exc}", traceback.format_exc())
        # The end state is set on the GUI thread when `done` arrives (after every queued `yielded`), so
        # `job.done` never turns true while signals of the job are still in flight.
        job.final_state = final
        self._report(job)

    @staticmethod
    def _drive(job: Job) -> Any:
        gen = job.factory()
        while True:
            try:
                progress = next(gen)
            except StopIteration as stop:
                return stop.value
            job.worker_signals.yielded.emit(progress)
            if job.cancel_requested:
                gen.close()  # GeneratorExit at the paused yield: the task saves its last batch
                return _CANCELLED

    @staticmethod
    def _report(job: Job) -> None:
        job.worker_signals.done.emit()


_CANCELLED = object()


class JobManager(QObject):
    """Starts jobs on the right pool and keeps the list the jobs panel shows."""

    added = Signal(object)
    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: list[Job] = []
        self._pools = {"io": QThreadPool(self), "model": QThreadPool(self)}
        self._pools["io"].setMaxThreadCount(2)
        self._pools["model"].setMaxThreadCount(1)  # one model at a time on the device

    def start(self, title: str, factory: TaskFactory, *, pool: str = "io", quiet: bool = False) -> Job:
        """Queue ``factory``'s task; connect to the returned job's signals to use its result."""
        job = Job(title, factory, pool=pool, quiet=quiet)
        job.yielded.connect(lambda _p, j=job: self.changed.emit(j))
        job.finished.connect(lambda j=job: self._on_job_finished(j))
        self.jobs.append(job)
        if not quiet:
            self.added.emit(job)
        self._pools[pool].start(_Runner(job))
        return job

    def _on_job_finished(self, job: Job) -> None:
        self.changed.emit(job)

    def running(self) -> list[Job]:
        return [j for j in self.jobs if not j.done]

    def cancel_all(self) -> None:
        for job in self.running():
            job.cancel()

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until every pool is idle (used at exit and in tests, after :meth:`cancel_all`)."""
        return all(pool.waitForDone(msecs) for pool in self._pools.values())
