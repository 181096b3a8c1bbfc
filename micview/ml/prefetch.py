"""Ordered prefetching in a thread pool: decode the next batches while the model runs on this one.

Why threads, not processes: Pillow's JPEG/PNG decoding and resizing and numpy's conversions release the
GIL, and torch's forward pass releases it too, so threads overlap decoding with inference without the
pickling cost and start-up time of a ``DataLoader`` with worker processes (and without spawning a process
that re-imports torch). Results come back in submission order; at most ``window`` items are in flight, so
memory stays bounded however large the project.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Outcome(Generic[T, R]):
    """One item's result, or the exception its loading raised (a bad file must not stop a run)."""

    __slots__ = ("error", "item", "value")

    def __init__(self, item: T, value: R | None, error: BaseException | None) -> None:
        self.item, self.value, self.error = item, value, error


def _call(fn: Callable[[T], R], item: T) -> Outcome[T, R]:
    try:
        return Outcome(item, fn(item), None)
    except Exception as exc:
        return Outcome(item, None, exc)


def prefetch(
    items: Iterable[T], fn: Callable[[T], R], *, workers: int, window: int
) -> Generator[Outcome[T, R], None, None]:
    """Yield ``Outcome(item, fn(item))`` in order, computing up to ``window`` ahead on ``workers`` threads.

    Closing the iterator (cancel) drops the queued work and returns without waiting for it.
    """
    if workers <= 0:
        yield from (_call(fn, item) for item in items)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="micview-decode")
    pending: deque[Future[Outcome[T, R]]] = deque()
    todo = iter(items)
    try:
        while True:
            while len(pending) < window and (item := next(todo, _END)) is not _END:
                pending.append(pool.submit(_call, fn, item))  # type: ignore[arg-type]
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


_END = object()


def batched(outcomes: Iterator[Outcome[T, R]], size: Callable[[], int]) -> Iterator[list[Outcome[T, R]]]:
    """Group outcomes into lists of ``size()`` (re-read per batch, so an OOM-halved size applies at once)."""
    batch: list[Outcome[T, R]] = []
    for outcome in outcomes:
        batch.append(outcome)
        if len(batch) >= size():
            yield batch
            batch = []
    if batch:
        yield batch
