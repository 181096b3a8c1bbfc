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
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

R = TypeVar("R")

_START, _DONE = "start", "done"


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
    arg: str | None = None
    limit: float = 0.0
    deadline: float | None = None  # set when the worker says it started on the file


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
            for w in self._workers:
                if w.arg is None and todo:
                    self._assign(w, *todo.popleft())
            busy = [w for w in self._workers if w.arg is not None]
            if not busy:
                return
            deadlines = [w.deadline for w in busy if w.deadline is not None]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            for w in busy:
                if (outcome := self._check(w, ready)) is not None:
                    yield outcome

    def _assign(self, w: _Worker, arg: str, limit: float) -> None:
        w.arg, w.limit, w.deadline = arg, limit, None
        w.conn.send(arg)

    def _check(self, w: _Worker, ready: set[Any]) -> tuple[str, R | ReadFailure] | None:
        arg = w.arg
        assert arg is not None
        if w.conn in ready:
            try:
                message = w.conn.recv()
            except (EOFError, OSError):
                return arg, self._replace(w, self._crash_reason(w))
            if message[0] == _START:
                w.deadline = time.monotonic() + w.limit
                return None
            w.arg = None
            return arg, message[1]
        if w.process.sentinel in ready:
            return arg, self._replace(w, self._crash_reason(w))
        if w.deadline is not None and time.monotonic() >= w.deadline:
            return arg, self._replace(w, ReadFailure(_timeout_reason(w.limit)))
        return None

    def _crash_reason(self, w: _Worker) -> ReadFailure:
        w.process.join(1.0)
        return ReadFailure(f"the reading process ended while reading this file (exit code {w.process.exitcode})")

    def _replace(self, w: _Worker, failure: ReadFailure) -> ReadFailure:
        self._stop(w, kill=True)
        self._workers[self._workers.index(w)] = self._start()
        return failure

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
            self._stop(w, kill=w.arg is not None)


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
