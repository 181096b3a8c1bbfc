"""Reading files in worker processes that give up on a stalled file and never outlive the program that started them.

Why not :class:`concurrent.futures.ProcessPoolExecutor`: a worker stuck in a read that never returns (a FIFO,
a dead network share) cannot be stopped there, killing it breaks the whole pool, and its workers (with the
resource tracker) stay alive after their parent is killed, because they wait on a queue whose write end they
hold themselves. Here each worker has its own pipe: one stuck on a file is killed and replaced and that file
reported as timed out, one that crashes on a file is replaced and that file reported, and every worker watches
its parent and exits as soon as the parent is gone, however it ended (kill -9, a crashed GUI).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from micview.core.errors import MicviewError

R = TypeVar("R")

_START, _DONE = "start", "done"
_AHEAD = 2  # files handed to a worker at a time: the next one is there when it finishes the current one


class ReaderStartError(MicviewError):
    """The worker processes die before reading anything (a broken installation, no memory for a process)."""


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """A file the worker could not finish: why, in words a user understands."""

    reason: str


def exit_with_parent() -> None:
    """In a child process: end this process the moment its parent dies (checked by a watcher thread).

    The parent's sentinel becomes ready when the parent is gone (on POSIX a pipe reaches end-of-file), so
    this costs nothing while the parent lives and works whatever the worker is blocked in.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="micview-exit-with-parent", daemon=True).start()


def _worker_main(conn: Connection, func: Callable[[str], Any], initializer: Callable[[], None] | None) -> None:
    exit_with_parent()
    if initializer is not None:
        initializer()
    while True:
        try:
            arg = conn.recv()
        except (EOFError, OSError):  # the parent closed the pipe: nothing more to do
            return
        if arg is None:
            return
        conn.send((_START,))
        conn.send((_DONE, func(arg)))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    queued: deque[tuple[str, float]] = field(default_factory=deque)  # sent to the worker, not started yet
    current: tuple[str, float, float] | None = None  # (path, seconds allowed, deadline) once it started
    ready: bool = False  # it has started on a file at least once (so it got through its start-up)

    @property
    def busy(self) -> bool:
        return bool(self.queued) or self.current is not None


class ReaderPool(Generic[R]):
    """``func(path)`` for many paths in ``workers`` processes, each call limited in time.

    ``func`` must be a picklable module-level callable that never raises (it returns its own error values);
    what it cannot finish (a stall past the time limit, a crash of the process) is yielded as a
    :class:`ReadFailure`. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, func: Callable[[str], R], workers: int, initializer: Callable[[], None] | None = None):
        self._func = func
        self._n = max(1, workers)
        self._initializer = initializer
        # spawn, not fork: forking a process that runs Qt or torch threads is unsafe.
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []

    def __enter__(self) -> ReaderPool[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def imap(self, jobs: Iterable[tuple[str, float]]) -> Iterator[tuple[str, R | ReadFailure]]:
        """Yield ``(path, result)`` as files finish, for ``(path, seconds allowed)`` jobs, in any order."""
        todo = deque(jobs)
        while len(self._workers) < min(self._n, len(todo)):
            self._workers.append(self._start())
        while True:
            self._hand_out(todo)
            busy = [w for w in self._workers if w.busy]
            if not busy:
                return
            deadlines = [w.current[2] for w in busy if w.current is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            for w in busy:
                if (outcome := self._check(w, ready, todo)) is not None:
                    yield outcome

    def _hand_out(self, todo: deque[tuple[str, float]]) -> None:
        """One file per worker first, then one more each, queued behind the current one (no idle wait)."""
        for depth in range(1, _AHEAD + 1):
            for w in self._workers:
                if todo and len(w.queued) + (w.current is not None) < depth:
                    w.queued.append(todo.popleft())
                    w.conn.send(w.queued[-1][0])

    def _check(self, w: _Worker, ready: set[Any], todo: deque[tuple[str, float]]) -> tuple[str, Any] | None:
        if w.conn in ready:
            try:
                message = w.conn.recv()
            except (EOFError, OSError):
                return self._lost(w, todo, self._crash_reason(w))
            if message[0] == _START:
                w.ready = True
                arg, limit = w.queued.popleft()
                w.current = (arg, limit, time.monotonic() + limit)
                return None
            assert w.current is not None
            arg, w.current = w.current[0], None
            return arg, message[1]
        if w.process.sentinel in ready:
            return self._lost(w, todo, self._crash_reason(w))
        if w.current is not None and time.monotonic() >= w.current[2]:
            return self._lost(w, todo, ReadFailure(_timeout_reason(w.current[1])))
        return None

    def _lost(self, w: _Worker, todo: deque[tuple[str, float]], failure: ReadFailure) -> tuple[str, Any] | None:
        """A worker stuck or gone: replaced; its file fails, the files queued behind it go back in line."""
        if not w.ready:  # it died starting up: every replacement would too
            w.process.join(1.0)
            raise ReaderStartError(f"The processes that read the files cannot start (exit code {w.process.exitcode}).")
        failed = w.current[0] if w.current is not None else (w.queued.popleft()[0] if w.queued else None)
        todo.extendleft(reversed(w.queued))
        self._stop(w, kill=True)
        self._workers[self._workers.index(w)] = self._start()
        return (failed, failure) if failed is not None else None

    def _crash_reason(self, w: _Worker) -> ReadFailure:
        w.process.join(1.0)
        return ReadFailure(f"the reading process ended while reading this file (exit code {w.process.exitcode})")

    def _start(self) -> _Worker:
        parent_end, child_end = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main, args=(child_end, self._func, self._initializer), daemon=True, name="micview-reader"
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    @staticmethod
    def _stop(w: _Worker, *, kill: bool) -> None:
        if not kill:
            try:
                w.conn.send(None)
                w.process.join(2.0)
            except OSError:
                pass
        if w.process.is_alive():
            w.process.kill()
            w.process.join(2.0)
        w.conn.close()

    def close(self) -> None:
        """End every worker: idle ones are asked to stop, busy ones (a cancelled import) are killed."""
        workers, self._workers = self._workers, []
        for w in workers:
            self._stop(w, kill=w.busy)


def _timeout_reason(limit: float) -> str:
    shown = f"{limit:.0f}" if limit >= 10 else f"{limit:.1f}"
    return f"reading took longer than {shown} s and was stopped (a stalled network drive or device?)"


def call_with_timeout(func: Callable[[str], R], arg: str, limit: float) -> R | ReadFailure:
    """``func(arg)`` in this process, giving up after ``limit`` seconds.

    For a handful of files, where starting worker processes costs more than it saves. A call that stalls is
    abandoned in its (daemon) thread: Python cannot interrupt a blocked read, but the import goes on.
    """
    result: list[R] = []
    thread = threading.Thread(target=lambda: result.append(func(arg)), name="micview-read", daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        return ReadFailure(_timeout_reason(limit))
    return result[0] if result else ReadFailure("unexpected error while reading this file")
