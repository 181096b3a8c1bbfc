"""Embedding throughput in-process vs on a Dask LocalCluster of 1 and 2 workers, same images, same run.

    python scripts/bench_dask.py [--n 96] [--images DIR] [--model effnet-lite0] [--batch-size 16]

Each configuration embeds the same N files into a fresh project (import not timed); a LocalCluster's start-up
and each worker's model load are timed separately from the embedding rate.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "miclib" / "images"


def fresh_project(tmp: Path, files: list[Path], name: str):
    from micview.core.importer import add_folder
    from micview.core.store import Project
    from micview.core.tasks import run_task

    folder = tmp / f"{name}-images"
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    project = Project.create(tmp / f"{name}.micview")
    run_task(add_folder(project, folder, workers=1))
    return project


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=96)
    ap.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    ap.add_argument("--model", default="effnet-lite0")
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()
    from micview.core.tasks import run_task
    from micview.ml.distributed import open_client
    from micview.ml.distributed.embed import embed_project_dask
    from micview.ml.embedding import embed_project

    files = sorted(args.images.glob("*.jpg"))[: args.n]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        with fresh_project(Path(tmp), files, "inproc") as project:
            s = run_task(embed_project(project, args.model, batch_size=args.batch_size))
            rows.append(("in-process (decode threads + model)", 0.0, s.images_per_s))
        for n in (1, 2):
            with fresh_project(Path(tmp), files, f"local{n}") as project:
                t = time.perf_counter()
                with open_client(f"local:{n}") as client:
                    started = time.perf_counter() - t
                    warm = run_task(embed_project_dask(project, client, args.model, batch_size=args.batch_size))
                    del warm  # the first pass loads the model on every worker; time the second, warm one
                    project.embeddings.delete_model(args.model)
                    s = run_task(embed_project_dask(project, client, args.model, batch_size=args.batch_size))
                rows.append((f"Dask local:{n} (warm workers)", started, s.images_per_s))
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print(f"{len(files)} images, {args.model}, batch {args.batch_size}\n")
    print(f"{'what':40} {'cluster start s':>15} {'img/s':>8}")
    for name, start, rate in rows:
        print(f"{name:40} {start:15.1f} {rate:8.1f}")


if __name__ == "__main__":
    main()
