"""Watch-mode latency: from a file complete in a watched folder to its point on the map, with the window's path.

    python scripts/bench_watch.py [--rate 1] [--seconds 30] [--method umap|pca] [--model effnet-lite0]

Builds a project of generated sample images (embedded, labelled by kind, with a stored map) in a process of its
own, so that this one starts as the window does on yesterday's project: torch, scikit-learn and UMAP not yet
imported. Then presses Watch as the window does (:class:`~micview.gui.controllers.watch.WatchController` on a
Session: a JobManager job, the watch itself in its helper process) while a writer thread writes new images into
the watched folder at ``--rate`` images per second, each in four chunks. Reports, per image, the seconds from
the writer closing the file to the arrival with map coordinates and a prediction, and the gaps of a 5 ms
QTimer on the GUI thread (as scripts/bench_eventloop.py) while the watch loads and while images arrive, with
every gap over 100 ms and when it came. Baselines measured in the same run, since the machine is shared: the
gaps of the idle event loop, and the time the model alone takes for one image (load_square + encode_pixels,
measured after the watch, in this process).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HEAVY = ("torch", "sklearn", "umap", "numba")  # what a window that only showed a stored map has not imported
LONG_GAP_MS = 100.0


def _prepare(tmp: Path, model_id: str, method: str) -> Path:
    from micview.core.importer import add_folder
    from micview.core.sample_data import write_sample
    from micview.core.store import Project
    from micview.core.tasks import run_task
    from micview.ml.embedding import embed_project
    from micview.ml.maps import map_task

    folder = write_sample(tmp / "images", per_kind=20, size=256)
    path = tmp / "bench.micview"
    with Project.create(path) as project:
        run_task(add_folder(project, folder, workers=1))
        run_task(embed_project(project, model_id))
        for row in project.images.all(status="ok"):
            project.labels.set([row.id], "kind", Path(row.path).parent.name)
        run_task(map_task(project, model_id, method))
    return path


def _model_alone(model_id: str, sample: Path) -> float:
    """Seconds per image for decode + forward alone, the floor of any pipeline."""
    from micview.ml.model_cache import shared
    from micview.ml.preprocess import load_square

    model = shared().embedder(model_id, "auto")
    model.encode_pixels(load_square(sample, model.preprocess.size)[None])  # the first call sets kernels up
    times = []
    for _ in range(7):
        start = time.perf_counter()
        model.encode_pixels(load_square(sample, model.preprocess.size)[None])
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _writer(folder: Path, rate: float, seconds: float, done: dict[str, float], stop: threading.Event) -> None:
    from PIL import Image

    rng = np.random.default_rng(1)
    end, k = time.monotonic() + seconds, 0
    while time.monotonic() < end and not stop.is_set():
        start = time.monotonic()
        name = f"new_{k:04d}.png"
        import io

        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), np.uint8)).save(buf, format="PNG")
        data = buf.getvalue()
        with (folder / name).open("wb") as f:
            for part in range(4):
                f.write(data[part * len(data) // 4 : (part + 1) * len(data) // 4])
                f.flush()
                time.sleep(0.02)
        done[name] = time.time()
        k += 1
        time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - start)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1.0, help="images per second written (default 1)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the writer writes (default 30)")
    parser.add_argument("--method", choices=["umap", "pca"], default="umap")
    parser.add_argument("--model", default="effnet-lite0")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="micview-bench-watch-"))
    os.environ["MICVIEW_CONFIG_DIR"] = str(tmp / "config")
    t0 = time.perf_counter()
    # in a process of its own: this one starts as the window does on yesterday's project (no torch, no sklearn)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        path = pool.submit(_prepare, tmp, args.model, args.method).result()
    print(f"project of 60 sample images embedded and mapped ({args.method}) in {time.perf_counter() - t0:.0f} s")
    incoming = tmp / "incoming"
    incoming.mkdir()
    from PySide6.QtCore import QTimer

    from micview.core.sample_data import KINDS
    from micview.core.store import Project
    from micview.gui.app import create_app
    from micview.gui.controllers.watch import WatchController
    from micview.gui.session import Session
    from micview.gui.settings import use_ini_folder

    use_ini_folder(tmp / "settings")
    app = create_app([])
    session = Session()
    session.set_model_id(args.model)
    session.map.method = args.method
    session.set_project(Project.open(path))
    session.task.set("kind", list(KINDS))
    loaded = sorted(m for m in HEAVY if m in sys.modules)
    print(f"imported before the watch starts: {', '.join(loaded) or 'none of ' + ', '.join(HEAVY)}")
    gaps: list[tuple[float, float, str]] = []  # (ms, seconds since the watch was started, phase)
    phase = ["idle"]
    last = [time.perf_counter()]
    started = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(((now - last[0]) * 1000, now - started[0], phase[0]))
        last[0] = now

    timer = QTimer(interval=5)
    timer.timeout.connect(tick)
    timer.start()
    QTimer.singleShot(3000, app.quit)  # baseline: the idle event loop
    app.exec()

    arrivals: list = []
    done: dict[str, float] = {}
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(incoming, args.rate, args.seconds, done, stop), daemon=True)
    controller = WatchController(session)

    def on_step(step) -> None:
        if step.message.startswith("Watching ") and phase[0] == "loading":
            phase[0] = "watching"
            writer.start()
        arrivals.extend(step.arrivals)
        if done and not writer.is_alive() and len(arrivals) >= len(done):
            controller.stop()

    def start() -> None:
        phase[0], started[0] = "loading", time.perf_counter()  # the click on Watch
        job = controller.start(incoming, polling=False)
        if job is None:
            print(f"the watch did not start: {session.errors.last}")
            app.quit()
            return
        job.yielded.connect(on_step)
        job.finished.connect(app.quit)

    QTimer.singleShot(0, start)
    app.exec()
    stop.set()
    session.jobs.wait(30_000)
    floor = _model_alone(args.model, next((tmp / "images").rglob("*.png")))
    _report(arrivals, done, gaps, floor, args)
    return 0


def _report(arrivals: list, done: dict[str, float], gaps: list, floor: float, args: argparse.Namespace) -> None:
    lat = np.array([a.placed_at - done[a.name] for a in arrivals if a.name in done and a.xy is not None])
    predicted = sum(bool(a.guesses) for a in arrivals)
    print(f"{len(done)} images written at {args.rate:g}/s; {len(arrivals)} arrived, {len(lat)} placed on the "
          f"{args.method.upper()} map, {predicted} predicted")  # fmt: skip
    if len(lat):
        print(f"file complete -> point on the map: p50 {np.median(lat):.2f} s, p90 {np.percentile(lat, 90):.2f} s, "
              f"max {lat.max():.2f} s (goal < 2 s)")  # fmt: skip
    print(f"baseline, decode + forward of one image alone: {floor * 1000:.0f} ms "
          f"(p50 latency = {np.median(lat) / floor:.1f}x that)" if len(lat) else "")  # fmt: skip
    for name in ("idle", "loading", "watching"):
        g = np.array([ms for ms, _at, p in gaps[1:] if p == name])
        if len(g):
            print(f"event-loop gaps, {name:8s}: p50 {np.percentile(g, 50):.1f} ms, p99 {np.percentile(g, 99):.1f} ms, "
                  f"max {g.max():.1f} ms over {len(g)} ticks of a 5 ms timer")  # fmt: skip

    long = [(ms, at, p) for ms, at, p in gaps[1:] if ms > LONG_GAP_MS and p != "idle"]
    print(f"gaps over {LONG_GAP_MS:.0f} ms (seconds after Watch was pressed): "
          + (", ".join(f"{ms:.0f} ms at {at:.1f} s ({p})" for ms, at, p in long) or "none"))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
