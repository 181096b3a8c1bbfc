"""Long work as generators that yield progress (superqt ``GeneratorWorker`` / Orange ``TaskState`` style).

A task is a generator that yields :class:`Progress` and *returns* its result. Whoever drives it (the CLI with a
progress bar, the GUI worker thread, a test) decides about cancelling: it simply stops iterating and closes the
generator, which raises ``GeneratorExit`` at the paused ``yield``. Tasks therefore commit their work in batches
*before* yielding, so a cancel (or a crash, or a kill) loses at most the batch in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

from micview.core.errors import Cancelled

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a task is: ``done`` of ``total`` units (``total`` 0 means unknown), and what it is doing."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


Task = Generator[Progress, None, R]


def run_task(
    task: Task[R],
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> R:
    """Drive ``task`` to the end and return its result.

    Raises :class:`Cancelled` after closing the task when ``should_cancel`` returns true at a yield point.
    """
    while True:
        try:
            progress = next(task)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(progress)
        if should_cancel is not None and should_cancel():
            task.close()
            raise Cancelled("Cancelled; the work finished so far is saved.")
