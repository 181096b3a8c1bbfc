"""Drive a generator task from the terminal with a progress bar; Ctrl-C cancels it cleanly."""

from __future__ import annotations

import sys
from typing import TypeVar

from micview.core.errors import Cancelled
from micview.core.tasks import Progress, Task

R = TypeVar("R")


def run_with_bar(task: Task[R], *, quiet: bool = False) -> R:
    """Run ``task`` to the end, drawing a bar on stderr when it is a terminal (or always unless ``quiet``)."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit="it", disable=quiet, file=sys.stderr, dynamic_ncols=True, leave=False)
    try:
        while True:
            try:
                progress: Progress = next(task)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if progress.total and bar.total != progress.total:
                bar.reset(total=progress.total)
            bar.n = progress.done
            bar.set_description_str(progress.message[:40], refresh=False)
            bar.refresh()
    except KeyboardInterrupt:
        task.close()
        raise Cancelled("Cancelled; the work finished so far is saved. Run the same command to continue.") from None
    finally:
        bar.close()
