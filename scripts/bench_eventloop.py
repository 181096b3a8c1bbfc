"""Worst event-loop latency of the GUI thread while a real embedding job runs (default model, CPU).

    python scripts/bench_eventloop.py [--n 120]

A 5 ms QTimer records the gaps between its ticks while ``micview.gui.workers`` runs
``micview.gui.background.embed`` over N generated images (the same path the window uses: own project
connection on the model thread, progress signals queued to the GUI thread). A gap much above 5 ms means
the GUI thread was blocked (GIL held by the worker, or work done on the GUI thread).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=120, help="images to embed (generated)")
    args = parser.parse_args()
    from PySide6.QtCore import QCoreApplication, QTimer

    from micview.core.importer import add_folder
    from micview.core.store import Project
    from micview.core.tasks import run_task
    from micview.gui import background
    from micview.gui.sample_data import write_sample
    from micview.gui.workers import JobManager

    tmp = Path(tempfile.mkdtemp(prefix="micview-bench-"))
    folder = write_sample(tmp / "images", per_kind=max(1, args.n // 3), size=256)
    with Project.create(tmp / "bench.micview") as project:
        run_task(add_folder(project, folder))
        n = project.images.count()
    app = QCoreApplication([])
    gaps: list[float] = []
    phase: list[bool] = []  # False while torch imports and the model loads, True once batches flow
    last = [time.perf_counter()]
    batches = [False]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        phase.append(batches[0])
        last[0] = now

    timer = QTimer(interval=5)
    timer.timeout.connect(tick)
    manager = JobManager()
    summary: list = []  # the job hands its result over once, then drops it
    job = manager.start("embed", lambda: background.embed(tmp / "bench.micview", "effnet-lite0", "auto"),
                        pool="model", on_result=summary.append)  # fmt: skip
    job.finished.connect(app.quit)
    job.yielded.connect(lambda p: batches.__setitem__(0, batches[0] or p.done > 0))
    timer.start()
    start = time.perf_counter()
    app.exec()
    seconds = time.perf_counter() - start
    assert job.state == "done", job.error
    result = summary[0]
    g, steady = np.array(gaps[1:]), np.array(phase[1:])
    print(f"embedded {result.embedded} of {n} images in {seconds:.1f} s (incl. model load); "
          f"{result.images_per_s:.1f} img/s on {result.device} {result.precision}")  # fmt: skip
    print(f"event-loop gaps over {len(g)} ticks of a 5 ms timer: p50 {np.percentile(g, 50):.1f} ms, "
          f"p99 {np.percentile(g, 99):.1f} ms, max {g.max():.1f} ms")  # fmt: skip
    for name, part in (("loading torch + model", g[~steady]), ("embedding batches", g[steady])):
        if len(part):
            print(f"  {name:22s}: p50 {np.percentile(part, 50):.1f} ms, p99 {np.percentile(part, 99):.1f} ms, "
                  f"max {part.max():.1f} ms over {len(part)} ticks")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
