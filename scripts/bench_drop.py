"""Benchmark: files dropped on the window of a large project, one importer pass (``add_paths``) against one
``add_folder`` per file (what the window did before), in the same run.

    python scripts/bench_drop.py --n 100000 --files 20

Each pass imports the same ``--files`` new images into its own copy of an N-image project (bench_project's).
Per file, ``add_folder`` plans against every record of the project, marks missing files and indexes every
content hash again; ``add_paths`` does that once for all the files.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from bench_project import build

from micview.core.importer import add_folder, add_paths
from micview.core.store import Project
from micview.core.tasks import run_task


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "big.micview"
        build(base, args.n)
        rng = np.random.default_rng(0)
        files = []
        for k in range(args.files):
            path = Path(tmp) / "dropped" / f"new_{k:03d}.png"
            path.parent.mkdir(exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (256, 256), dtype=np.uint8)).save(path)
            files.append(path)
        times = {}
        for kind in ("add_folder per file", "add_paths, one pass"):
            copy = Path(tmp) / f"{kind.split()[0]}.micview"
            shutil.copyfile(base, copy)
            with Project.open(copy) as project:
                t = time.perf_counter()
                if kind.startswith("add_folder"):
                    added = sum(run_task(add_folder(project, f)).added for f in files)
                else:
                    added = run_task(add_paths(project, files)).added
                times[kind] = time.perf_counter() - t
                assert added == args.files and project.images.count() == args.n + args.files
    print(f"project: {args.n} images; dropped: {args.files} new files")
    for kind, seconds in times.items():
        print(f"{kind:20s}: {seconds * 1000:8.0f} ms ({seconds / times['add_paths, one pass']:.1f}x)")


if __name__ == "__main__":
    main()
