"""Benchmark: micview's folder import (hash + header + metadata + thumbnail, stored in the project) against a
naive Pillow loop (open, thumbnail, JPEG-encode) over the same files, in the same run.

    python scripts/bench_import.py --n 2000            # copies of ../shared/data/miclib/images
    python scripts/bench_import.py --n 10000 --workers 2

Copies are renamed and get one appended byte each, so every file has its own content hash (as real data).
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
from pathlib import Path

from PIL import Image

from micview.core.importer import add_folder
from micview.core.store import Project
from micview.core.tasks import run_task

MICLIB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "miclib" / "images"


def make_copies(src: Path, dst: Path, n: int) -> list[Path]:
    sources = sorted(src.glob("*.jpg"))
    if not sources:
        raise SystemExit(f"no images in {src}")
    out = []
    for i in range(n):
        s = sources[i % len(sources)]
        d = dst / f"{i // 1000:03d}" / f"{i:06d}_{s.name}"
        d.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(s, d)
        if i >= len(sources):
            with d.open("ab") as f:  # JPEG decoders ignore bytes after EOI; the hash changes
                f.write(i.to_bytes(4, "little"))
        out.append(d)
    return out


def naive(files: list[Path], size: int = 256) -> float:
    t = time.perf_counter()
    for f in files:
        with Image.open(f) as im:
            im = im.convert("RGB")
            im.thumbnail((size, size))
            im.save(io.BytesIO(), format="JPEG", quality=85)
    return time.perf_counter() - t


def micview_import(folder: Path, project_path: Path, workers: int | None) -> float:
    t = time.perf_counter()
    with Project.create(project_path) as p:
        summary = run_task(add_folder(p, folder, workers=workers))
    dt = time.perf_counter() - t
    assert summary.added > 0 and not summary.errors, summary.errors[:3]
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--source", type=Path, default=MICLIB)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        files = make_copies(args.source, folder, args.n)
        naive(files[:50])  # warm the page cache for both contenders
        t_naive = naive(files)
        t_mic = micview_import(folder, Path(tmp) / "bench.micview", args.workers)
    print(f"images: {args.n}")
    print(f"naive Pillow open+thumbnail loop : {t_naive:7.2f} s  {args.n / t_naive:7.1f} img/s")
    print(f"micview add (hash, metadata, thumbnail, stored): {t_mic:7.2f} s  {args.n / t_mic:7.1f} img/s")
    print(f"ratio micview / naive throughput : {t_naive / t_mic:.2f}x")


if __name__ == "__main__":
    main()
