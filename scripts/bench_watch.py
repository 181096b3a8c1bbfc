"""Watch-mode latency: from a file complete in a watched folder to its point on the map, with the GUI's job path.

    python scripts/bench_watch.py [--rate 1] [--seconds 30] [--method umap|pca] [--model effnet-lite0]

Builds a project of generated sample images (embedded, labelled by kind, with a stored map), then runs the
watch task as the window does (a JobManager job, UMAP placement in its helper process) while a writer thread
writes new images into the watched folder at ``--rate`` images per second, each in four chunks. Reports,
per image, the seconds from the writer closing the file to the arrival with map coordinates and a prediction,
and the gaps of a 5 ms QTimer on the GUI thread meanwhile (as scripts/bench_eventloop.py). Baselines measured
in the same run, since the machine is shared: the gaps of the idle event loop, and the time the model alone
takes for one image (load_square + encode_pixels).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _prepare(tmp: Path, model_id: str, method: str) -> Path:
    from micview.core.importer import add_folder
    from micview.core.store import Project
    from micview.core.tasks import run_task
    try:
        from micview.core.sample_data import write_sample
    except ImportError:  # before the sample images moved to core
        from micview.gui.sample_data import write_sample  # type: ignore[no-redef]
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
    from PySide6.QtCore import QCoreApplication, QTimer

    from micview.gui.workers import JobManager
    from micview.ml.watch import WatchOptions, watch_folder

    tmp = Path(tempfile.mkdtemp(prefix="micview-bench-watch-"))
    t0 = time.perf_counter()
    path = _prepare(tmp, args.model, args.method)
    print(f"project of 60 sample images embedded and mapped ({args.method}) in {time.perf_counter() - t0:.0f} s")
    floor = _model_alone(args.model, next((tmp / "images").rglob("*.png")))
    incoming = tmp / "incoming"
    incoming.mkdir()

    app = QCoreApplication([])
    gaps: list[tuple[float, str]] = []
    phase = ["idle"]
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(((now - last[0]) * 1000, phase[0]))
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
    options = WatchOptions(model_id=args.model, task="kind", marco=False, separate_process=True)
    manager = JobManager()
    job = manager.start("watch", lambda: watch_folder(path, incoming, options), pool="io")

    def on_step(step) -> None:
        if step.message.startswith("Watching ") and phase[0] == "loading":
            phase[0] = "watching"
            writer.start()
        arrivals.extend(step.arrivals)
        if done and not writer.is_alive() and len(arrivals) >= len(done):
            job.cancel()

    job.yielded.connect(on_step)
    job.finished.connect(app.quit)
    phase[0] = "loading"
    app.exec()
    stop.set()
    manager.wait(30_000)
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
        g = np.array([ms for ms, p in gaps[1:] if p == name])
        if len(g):
            print(f"event-loop gaps, {name:8s}: p50 {np.percentile(g, 50):.1f} ms, p99 {np.percentile(g, 99):.1f} ms, "
                  f"max {g.max():.1f} ms over {len(g)} ticks of a 5 ms timer")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
