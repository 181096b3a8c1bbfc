"""Watch mode's cost on the GUI thread per arriving image, with N points on the map, in the real window.

    python scripts/bench_watch_arrival.py [--n 100000] [--arrivals 20] [--rate 1] [--profile]

Builds a project of N image rows (scripts/bench_project.py's rows, a third labelled ``technique``), opens it in
the main window (offscreen, 1280x800), shows a clustered map of N points coloured by the label task and zooms
into one cluster, as a scientist at the microscope would. Then images arrive at ``--rate`` per second: per
arrival it stores a new image row and its prediction (the watch job's work, off the GUI thread, not counted)
and hands :class:`~micview.gui.controllers.watch.WatchController` the job's progress step, as the job does.

Reports the milliseconds the progress step takes on the GUI thread, and the gaps of a 5 ms timer over the whole
run (as scripts/bench_eventloop.py), which also count what the step deferred (the grid's rows) and the repaints:
their excess over 5 ms per arrival is the GUI thread's time per image. Checks what the user must see: the zoom
unchanged, existing points where they were, the new points on the map and marked "new". ``--profile`` prints
the cProfile of the GUI thread over the arrivals (top 25 by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _new_row(project, k: int) -> int:
    now = "2026-01-02T00:00:00+00:00"
    with project.transaction() as con:
        cur = con.execute(
            "INSERT INTO images (path, name, folder, content_hash, size_bytes, mtime, status, format, width, "
            "height, frames, channels, dtype, bit_depth, mode, added_at, updated_at) "
            "VALUES (?,?,'incoming',?,2000000,?,'ok','TIFF',1024,768,1,1,'uint16',16,'I;16',?,?)",
            (f"incoming/new{k:04d}.tif", f"new{k:04d}.tif", f"new{k:032x}", 1.8e9 + k, now, now),
        )
    return int(cur.lastrowid)


def _arrival(project, image_id: int, k: int, xy: np.ndarray):
    from micview.core.store.annotations import Prediction
    from micview.core.watch.arrival import Arrival, Guess

    label = ["SEM", "TEM", "optical"][k % 3]
    project.labels.add_predictions("technique", [Prediction(image_id, label, 0.9, {label: 0.9})], model_id="bench")
    return Arrival(image_id, f"/incoming/new{k:04d}.tif", f"new{k:04d}.tif", xy=(float(xy[0]), float(xy[1])),
                   guesses=(Guess("technique", label, 0.9, "few-shot:logreg"),), placed_at=time.time())  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="points on the map (default 100 000)")
    parser.add_argument("--arrivals", type=int, default=20, help="images arriving (default 20)")
    parser.add_argument("--rate", type=float, default=1.0, help="images per second (default 1)")
    parser.add_argument("--profile", action="store_true", help="cProfile of the timed part")
    args = parser.parse_args()
    from bench_map import clustered_map
    from bench_project import big_window
    from PySide6.QtCore import QRectF

    from micview.gui.controllers.watch import WatchController
    from micview.gui.state import MapData
    from micview.gui.watch_state import watch_state

    app, w, _ = big_window(args.n, "micview-bench-arrival-")
    s = w.session
    w.ctl.labelling.set_task("technique")
    _drain(app, 1.0)
    ids = np.array(sorted(r.id for r in s.catalog.rows), np.int64)
    xy, _cls = clustered_map(len(ids))
    s.map.set_data(MapData(ids, xy, "umap", s.model_id, f"UMAP of {len(ids):,} images"))
    _drain(app, 1.0)
    centre = xy[0]
    w.scatter.vb.setRange(QRectF(centre[0] - 1.5, centre[1] - 1.0, 3.0, 2.0), padding=0)
    _drain(app, 0.5)
    view = w.scatter.vb.viewRange()
    controller = WatchController(s)
    controller._wells = None  # no plate pattern: no trajectories
    steps, gaps = _arrive(app, s, controller, centre, args, lambda: _check(w, ids, xy, view, watch_state(s), args))
    step_ms = [ms for ms, _k in steps]
    busy = sum(ms - 5.0 for ms in gaps if ms > 5.0)
    print(f"{args.n:,} points on the map, {args.arrivals} images arriving at {args.rate:g}/s:")
    print(f"  the progress step of an arrival on the GUI thread: p50 {statistics.median(step_ms):.1f} ms, "
          f"max {max(step_ms):.1f} ms")  # fmt: skip
    print(f"  event-loop gaps meanwhile: p50 {np.percentile(gaps, 50):.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms, "
          f"max {max(gaps):.1f} ms; the GUI thread busy {busy / len(steps):.0f} ms per arrival in all "
          f"({busy / (sum(gaps) or 1) * 100:.0f} % of the time)")  # fmt: skip
    if args.profile:
        pstats.Stats(_PROFILE).sort_stats("cumulative").print_stats(25)
    w.close()
    return 0


_PROFILE = cProfile.Profile()


def _arrive(app, s, controller, centre: np.ndarray, args, check) -> tuple[list[tuple[float, int]], list[float]]:
    """Images arriving at ``args.rate`` per second, and a 5 ms timer's gaps meanwhile (as bench_eventloop)."""
    from PySide6.QtCore import QTimer

    from micview.ml.watch.run import WatchProgress

    rng = np.random.default_rng(3)
    steps: list[tuple[float, int]] = []
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now

    def arrive() -> None:
        k = len(steps)
        if k == args.arrivals:
            QTimer.singleShot(3000, lambda: (check(), app.quit()))  # the deferred (the grid's rows) happens meanwhile
            return
        written = time.perf_counter()
        image_id = _new_row(s.project, k)  # the job's work, on its thread: not counted
        arrival = _arrival(s.project, image_id, k, centre + rng.normal(scale=0.3, size=2))
        start = time.perf_counter()
        last[0] += start - written
        controller._on_step(WatchProgress(k + 1, 0, arrival.name, (arrival,)))
        steps.append(((time.perf_counter() - start) * 1000, k))
        QTimer.singleShot(round(1000 / args.rate), arrive)

    timer = QTimer(interval=5)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(0, arrive)
    if args.profile:
        _PROFILE.enable()
    app.exec()
    if args.profile:
        _PROFILE.disable()
    timer.stop()
    return steps, gaps


def _drain(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def _check(w, ids: np.ndarray, xy: np.ndarray, view, state, args) -> None:
    """What the user must see after the arrivals (the figures mean nothing if the window got it wrong)."""
    shown = w.scatter
    same_view = np.allclose(np.array(shown.vb.viewRange()), np.array(view))
    kept = np.array_equal(shown.ids[: len(ids)], ids) and np.array_equal(shown.xy[: len(ids)], xy)
    on_map = len(shown.ids) == len(ids) + args.arrivals == len(w.session.catalog)
    ringed = len(state.new_ids) == len(shown.highlighted("new")) == args.arrivals
    print(f"checks: zoom kept {same_view}, existing points kept {kept}, new points on the map and in the grid "
          f"{on_map}, ringed as new {ringed}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
