"""Benchmark micview's MARCO scoring against the SavedModel run by TensorFlow one image at a time.

The baseline is what the package's own ``dls_marco_score_ispyb/score.py`` does: load the SavedModel, then
for each file feed its JPEG bytes to the ``predict_images`` signature, one image per call (here with TF 2's
``tf.saved_model.load``, since ``tf.contrib.predictor`` no longer exists). micview: ``score_project`` on a
project of the same files (exact preprocessing in numpy, decoding in threads, batches through onnxruntime,
scores stored in the project file). Same images, same run; model loading is excluded from both, and one
image warms each up. Scores of the two are compared too.

    python scripts/bench_marco.py [--n 64] [--batch-size 8] [--python TF_PYTHON]

TF_PYTHON (default ``$MICVIEW_MARCO_PYTHON``, else this interpreter) must have tensorflow and tf2onnx; it
also converts the model once into a temporary cache when it is not converted yet.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "crystals" / "images"

TF_LOOP = """
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
start = time.perf_counter()
results = {p: score(p) for p in files}
print(json.dumps({"seconds": time.perf_counter() - start, "results": results}))
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


def run_tf(python: str, savedmodel: Path, files: list[Path]) -> dict:
    cmd = [python, "-c", TF_LOOP, str(savedmodel), *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_micview(root: Path, files: list[Path], batch_size: int) -> tuple[float, dict[str, dict[str, float]]]:
    from micview.core.importer import add_folder
    from micview.core.store import Project
    from micview.core.tasks import run_task
    from micview.ml.marco.preprocess import load
    from micview.ml.marco.runtime import load_folder
    from micview.ml.marco.score import score_project

    model = load_folder(root)
    model.run(load(files[0])[None])  # warm-up, like the TF loop's first image
    with Project.create(files[0].parent.parent / "bench.micview") as project:
        run_task(add_folder(project, files[0].parent, workers=1))
        start = time.perf_counter()
        summary = run_task(score_project(project, model, batch_size=batch_size))
        seconds = time.perf_counter() - start
        preds = project.labels.current("outcome", "model")
        scores = {str(project.resolve(project.images.get(i).path)): a.scores or {} for i, a in preds.items()}
    assert summary.scored == len(files), summary
    return seconds, scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--python", default=os.environ.get("MICVIEW_MARCO_PYTHON", sys.executable))
    args = ap.parse_args()

    from micview.ml.marco.install import convert_cached, find_savedmodel

    savedmodel = find_savedmodel(None)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("MICVIEW_CACHE_DIR", str(Path(tmp) / "cache"))
        root, _ = convert_cached(savedmodel, python=args.python)
        (Path(tmp) / "drops").mkdir()
        files = make_images(Path(tmp) / "drops", args.n)
        tf = run_tf(args.python, savedmodel, files)
        mv_seconds, mv_scores = run_micview(root, files, args.batch_size)
        diffs = [
            max(abs(mv_scores[p][c.lower()] - s) for s, c in zip(*tf["results"][p], strict=True)) for p in mv_scores
        ]
    tf_rate, mv_rate = args.n / tf["seconds"], args.n / mv_seconds
    print(f"{args.n} drop images ({len(set(f.name.rsplit('_', 1)[0] for f in files))} distinct), {os.cpu_count()} CPUs")
    print(f"TensorFlow SavedModel, one image per call : {tf['seconds']:7.2f} s  {tf_rate:6.2f} images/s")
    print(f"micview score_project (onnxruntime, b={args.batch_size:<2}): {mv_seconds:7.2f} s  {mv_rate:6.2f} images/s")
    print(f"ratio micview / TensorFlow: {mv_rate / tf_rate:.2f}x;  max |score difference|: {np.max(diffs):.2e}")


if __name__ == "__main__":
    main()
