"""Benchmark micview's MARCO scoring against the SavedModel run by TensorFlow one image at a time.

The baseline is what the package's own ``dls_marco_score_ispyb/score.py`` does: load the SavedModel, then
for each file feed its JPEG bytes to the ``predict_images`` signature, one image per call (here with TF 2's
``tf.saved_model.load``, since ``tf.contrib.predictor`` no longer exists). micview: ``score_project`` on a
project of the same files (exact preprocessing in numpy in prefetch threads, batches through onnxruntime,
scores stored in the project file). A third line is onnxruntime's forward alone on tensors preprocessed
beforehand: the ceiling for the pipeline.

The machine this runs on may be shared, so the contenders are interleaved: TensorFlow stays loaded in a child
process that times one pass over the files when asked, then micview scores a fresh copy of the project, then
the bare forward runs, ``--repeat`` times; medians and ranges are reported with the load average. Model
loading and one warm-up image are excluded from every side. Scores of TensorFlow and micview are compared.

    python scripts/bench_marco.py [--n 64] [--batch-size 8] [--repeat 3] [--python TF_PYTHON]

TF_PYTHON (default ``$MICVIEW_MARCO_PYTHON``, else this interpreter) must have tensorflow and tf2onnx; it
also converts the model once into a temporary cache when it is not converted yet.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "crystals" / "images"

# Reads one line per pass from stdin, answers with one JSON line: the seconds of the pass and its scores.
TF_SERVER = """
import json, os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1], tags=["serve"])
predict = model.signatures["predict_images"]
files = sys.argv[2:]
def score(path):
    with open(path, "rb") as f:
        out = predict(image_bytes=tf.constant([f.read()]))
    return out["scores"].numpy()[0].tolist(), [c.decode() for c in out["classes"].numpy()[0]]
score(files[0])
print("ready", flush=True)
for _ in sys.stdin:
    start, cpu = time.perf_counter(), time.process_time()
    results = {p: score(p) for p in files}
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "results": results}), flush=True)
"""


def make_images(folder: Path, n: int) -> list[Path]:
    sources = sorted(IMAGES.glob("*.jpg"))
    if not sources:
        sys.exit(f"no sample images in {IMAGES}")
    out = []
    for i in range(n):
        src = sources[i % len(sources)]
        out.append(Path(shutil.copy(src, folder / f"{src.stem}_{i:04d}.jpg")))
    return out


class TensorFlowLoop:
    """The SavedModel loaded once in ``python``; :meth:`run` times one per-image pass over ``files``."""

    def __init__(self, python: str, savedmodel: Path, files: list[Path]) -> None:
        cmd = [python, "-c", TF_SERVER, str(savedmodel), *map(str, files)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def run(self) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(30)


def imported_project(files: list[Path]) -> Path:
    """A project of ``files``, imported once; each micview pass scores a fresh copy of it."""
    from micview.core.importer import add_folder
    from micview.core.store import Project
    from micview.core.tasks import run_task

    path = files[0].parent.parent / "imported.micview"
    with Project.create(path) as project:
        run_task(add_folder(project, files[0].parent, workers=1))
    return path


class Clock:
    """Wall and process CPU seconds of a block (CPU time counts every thread of this process)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def run_micview(model, imported: Path, batch_size: int, k: int) -> tuple[Clock, dict[str, dict[str, float]]]:
    from micview.core.store import Project
    from micview.core.tasks import run_task
    from micview.ml.marco.score import score_project

    path = Path(shutil.copy(imported, imported.with_name(f"bench{k}.micview")))
    with Project.open(path) as project:
        with Clock() as clock:
            summary = run_task(score_project(project, model, batch_size=batch_size))
        preds = project.labels.current("outcome", "model")
        scores = {str(project.resolve(project.images.get(i).path)): a.scores or {} for i, a in preds.items()}
    assert summary.scored == len(scores) and not summary.failed, summary
    return clock, scores


def run_forward(model, tensors: np.ndarray, batch_size: int) -> Clock:
    with Clock() as clock:
        for i in range(0, len(tensors), batch_size):
            model.run(tensors[i : i + batch_size])
    return clock


def spread(rates: list[float]) -> str:
    return f"{statistics.median(rates):7.2f} [{min(rates):6.2f} -{max(rates):6.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--python", default=os.environ.get("MICVIEW_MARCO_PYTHON", sys.executable))
    args = ap.parse_args()

    from micview.ml.marco.install import convert_cached, find_savedmodel
    from micview.ml.marco.preprocess import load
    from micview.ml.marco.runtime import load_folder

    savedmodel = find_savedmodel(None)
    loads = [os.getloadavg()[0]]
    wall: dict[str, list[float]] = {"tf": [], "micview": [], "forward": []}
    cpu: dict[str, list[float]] = {"tf": [], "micview": [], "forward": []}
    diffs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("MICVIEW_CACHE_DIR", str(Path(tmp) / "cache"))
        root, _ = convert_cached(savedmodel, python=args.python)
        (Path(tmp) / "drops").mkdir()
        files = make_images(Path(tmp) / "drops", args.n)
        imported = imported_project(files)
        model = load_folder(root)
        tensors = np.stack([load(f) for f in files])
        model.run(tensors[:1])  # warm-up, like the TF loop's first image
        tf = TensorFlowLoop(args.python, savedmodel, files)
        try:
            for k in range(args.repeat):
                tf_out = tf.run()
                mv_clock, mv_scores = run_micview(model, imported, args.batch_size, k)
                fw_clock = run_forward(model, tensors, args.batch_size)
                for key, w, c in (
                    ("tf", tf_out["seconds"], tf_out["cpu"]),
                    ("micview", mv_clock.wall, mv_clock.cpu),
                    ("forward", fw_clock.wall, fw_clock.cpu),
                ):
                    wall[key].append(args.n / w)
                    cpu[key].append(args.n / c)
                loads.append(os.getloadavg()[0])
                for p, (scores, classes) in tf_out["results"].items():
                    diffs.append(max(abs(mv_scores[p][c.lower()] - s) for s, c in zip(scores, classes, strict=True)))
        finally:
            tf.close()
    report(args, files, loads, wall, cpu, diffs)


def report(args, files, loads, wall, cpu, diffs) -> None:  # type: ignore[no-untyped-def]
    names = {
        "tf": "TensorFlow SavedModel, one image per call",
        "micview": f"micview score_project (onnxruntime fp32, batch {args.batch_size})",
        "forward": "onnxruntime forward alone, preprocessed tensors",
    }
    print(f"\n$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    distinct = len({f.name.rsplit("_", 1)[0] for f in files})
    print(f"{args.n} drop images ({distinct} distinct), {os.cpu_count()} CPUs, {args.repeat} interleaved repeats")
    print(f"load average (1 min) during the run: {min(loads):.1f} - {max(loads):.1f}")
    print("images per wall second and per CPU second (all threads), median [range]\n")
    print(f"{'':52} {'images/s (wall)':>22} {'images/CPU-s':>22}")
    for key, name in names.items():
        print(f"{name:52} {spread(wall[key]):>22} {spread(cpu[key]):>22}")
    for label, rates in (("wall", wall), ("CPU", cpu)):
        ratios = [m / t for m, t in zip(rates["micview"], rates["tf"], strict=True)]
        each = " ".join(f"{r:.2f}x" for r in ratios)
        print(f"micview / TensorFlow ({label:4}): median {statistics.median(ratios):.2f}x  (per repeat {each})")
    print(f"goal >= 3x;  max |score difference| micview vs TensorFlow: {max(diffs):.2e}")


if __name__ == "__main__":
    main()
