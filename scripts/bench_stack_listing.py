"""Listing a big stack costs about one frame: read_summary of an N-frame MRC / TIFF stack against a 1-frame file.

Writes the stacks into a temporary folder, then reports, per format, the median time of ``read_summary`` (the
importer's call) for the 1-frame file and the N-frame file, their ratio, the peak Python memory of the N-frame
call, and, as the baseline of "decode everything", the time to read all N frames. Ratios, not absolute times,
are the result: the machine is shared and noisy.

    python scripts/bench_stack_listing.py [--frames 200] [--size 512]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import mrcfile
import numpy as np
import tifffile

from micview.core.imaging import read_frame, read_summary


def _write(folder: Path, suffix: str, data: np.ndarray) -> Path:
    path = folder / f"stack{len(data)}{suffix}"
    if suffix == ".mrc":
        with mrcfile.new(path, overwrite=True) as m:
            m.set_data(data)
            m.set_image_stack()
    else:
        tifffile.imwrite(path, data)
    return path


def _median(fn: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    data = np.random.default_rng(0).integers(0, 4000, (args.frames, args.size, args.size), dtype=np.uint16)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".mrc", ".tif"):
            one, many = _write(Path(tmp), suffix, data[:1]), _write(Path(tmp), suffix, data)
            read_summary(one), read_summary(many)  # imports and the page cache, outside the measurement
            t_one, t_many = _median(lambda p=one: read_summary(p)), _median(lambda p=many: read_summary(p))
            tracemalloc.start()
            read_summary(many)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            t_all = _median(lambda p=many: [read_frame(p, i) for i in range(args.frames)], repeats=1)
            print(f"{suffix}: {args.frames} x {args.size}² uint16 ({data.nbytes / 1e6:.0f} MB): read_summary "
                  f"{t_one * 1e3:.1f} ms (1 frame) vs {t_many * 1e3:.1f} ms ({args.frames} frames), ratio "
                  f"{t_many / t_one:.2f}; peak {peak / 1e6:.1f} MB; reading every frame {t_all * 1e3:.0f} ms "
                  f"({t_all / t_many:.0f}x the listing)")  # fmt: skip


if __name__ == "__main__":
    main()
