"""Drive a generator task from the terminal with a progress bar; Ctrl-C cancels it cleanly."""

from __future__ import annotations

import sys
from typing import Any, TypeVar

from micview.core.errors import Cancelled
from micview.core.tasks import Progress, Task

R = TypeVar("R")


def run_with_bar(task: Task[R], *, quiet: bool = False) -> R:
    """Run ``task`` to the end with a bar on stderr (none with ``quiet``).

    The bar appears with the task's first progress report, so a command that fails at once (a missing
    folder, a wrong model) prints only its error message, not an empty bar above it.
    """
    bar: Any = None
    try:
        while True:
            try:
                progress: Progress = next(task)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if bar is None:
                bar = _new_bar(quiet)
            if progress.total and bar.total != progress.total:
                bar.reset(total=progress.total)
            bar.n = progress.done
            bar.set_description_str(progress.message[:40], refresh=False)
            bar.refresh()
    except KeyboardInterrupt:
        task.close()
        raise Cancelled("Cancelled; the work finished so far is saved. Run the same command to continue.") from None
    finally:
        if bar is not None:
            bar.close()


def _new_bar(quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=0, unit="it", disable=quiet, file=sys.stderr, dynamic_ncols=True, leave=False)
