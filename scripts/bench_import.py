"""Benchmark: micview's folder import (hash + header + metadata + thumbnail, stored in the project) against a
naive Pillow loop (open, thumbnail, JPEG-encode) over the same files, in the same run.

    python scripts/bench_import.py --n 2000            # copies of ../shared/data/miclib/images
    python scripts/bench_import.py --n 2000 --workers 2 --repeat 3

Copies are renamed and get one appended byte each, so every file has its own content hash (as real data).
The two are interleaved ``--repeat`` times (each micview pass imports into a new project) and reported as
medians with ranges, per wall second and per CPU second (micview's worker processes included), with the load
average: where other programs share the cores, wall-clock ratios move with each side's share of them. A last
table splits one file's cost into its steps, on one core, to show where the time goes.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from micview.core.importer import add_folder, encode_thumbnail, file_hash, read_file
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


class Clock:
    """Wall seconds and CPU seconds of this process plus its finished children (the reader processes)."""

    @staticmethod
    def _cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, self._cpu() - self.cpu


def naive_one(f: Path, size: int = 256) -> None:
    with Image.open(f) as im:
        im = im.convert("RGB")
        im.thumbnail((size, size))
        im.save(io.BytesIO(), format="JPEG", quality=85)


def naive(files: list[Path]) -> Clock:
    with Clock() as clock:
        for f in files:
            naive_one(f)
    return clock


def micview_import(folder: Path, project_path: Path, workers: int | None) -> Clock:
    with Clock() as clock, Project.create(project_path) as p:
        summary = run_task(add_folder(p, folder, workers=workers))
    assert summary.added > 0 and not summary.errors, summary.errors[:3]
    return clock


def per_step(files: list[Path], tmp: Path) -> list[tuple[str, float]]:
    """CPU milliseconds per file of each step, serially in this process (files already in the page cache)."""
    from micview.core.imaging import probe, read_summary

    def ms(fn) -> float:  # type: ignore[no-untyped-def]
        start = time.process_time()
        for f in files:
            fn(f)
        return 1e3 * (time.process_time() - start) / len(files)

    summaries = [read_summary(f) for f in files]
    thumbs = iter(summaries)
    reads = [(f, *read_file(str(f))) for f in files]

    def store_only(*_args) -> object:  # type: ignore[no-untyped-def]
        yield from reads

    start = time.process_time()
    with Project.create(tmp / "store-only.micview") as p:
        run_task(add_folder(p, files[0].parent, reader=store_only))
    store = 1e3 * (time.process_time() - start) / len(files)
    return [
        ("naive loop (open, convert, thumbnail, encode)", ms(naive_one)),
        ("micview read_file: all of the worker's part", ms(lambda f: read_file(str(f)))),
        ("  file_hash (blake2b of the bytes)", ms(file_hash)),
        ("  probe (header, EXIF, metadata)", ms(probe)),
        ("  read_summary (probe + thumbnail decode)", ms(read_summary)),
        ("  encode_thumbnail (JPEG q85)", ms(lambda f: encode_thumbnail(next(thumbs).thumbnail))),
        ("micview main process: plan, place, SQLite (no reading)", store),
    ]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.1f} [{min(values):7.1f} -{max(values):7.1f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--source", type=Path, default=MICLIB)
    args = ap.parse_args()
    loads = [os.getloadavg()[0]]
    wall: dict[str, list[float]] = {"naive": [], "micview": []}
    cpu: dict[str, list[float]] = {"naive": [], "micview": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        files = make_copies(args.source, folder, args.n)
        naive(files[:50])  # warm the page cache for both contenders
        for k in range(args.repeat):
            for key, clock in (
                ("naive", naive(files)),
                ("micview", micview_import(folder, Path(tmp) / f"bench{k}.micview", args.workers)),
            ):
                wall[key].append(args.n / clock.wall)
                cpu[key].append(args.n / clock.cpu)
            loads.append(os.getloadavg()[0])
        steps = per_step(sorted((folder / "000").glob("*.jpg"))[:300], Path(tmp))
    workers = args.workers if args.workers is not None else min(4, os.cpu_count() or 1)
    print(f"\n$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"{args.n} images, {os.cpu_count()} CPUs, {workers} reader processes, {args.repeat} interleaved repeats")
    print(f"load average (1 min) during the run: {min(loads):.1f} - {max(loads):.1f}\n")
    print(f"{'median [range]':48} {'images/s (wall)':>24} {'images/CPU-s':>24}")
    print(f"{'naive Pillow open+thumbnail loop':48} {spread(wall['naive']):>24} {spread(cpu['naive']):>24}")
    name = "micview add (hash, metadata, thumbnail, stored)"
    print(f"{name:48} {spread(wall['micview']):>24} {spread(cpu['micview']):>24}")
    for label, rates in (("wall", wall), ("CPU ", cpu)):
        ratios = [m / b for m, b in zip(rates["micview"], rates["naive"], strict=True)]
        print(f"micview / naive ({label}): {spread(ratios)}  (goal >= 4x)")
    print("\none file, CPU ms, serial in this process:")
    for what, value in steps:
        print(f"  {what:58} {value:6.2f}")


if __name__ == "__main__":
    main()
