"""Benchmark exact text→image search latency on random unit vectors (numpy only, as the app runs it).

    python scripts/bench_search.py [--sizes 100000 1000000] [--dim 512] [--k 10] [--repeat 10]

Measures :meth:`micview.core.search.VectorIndex.search` for one query vector (the text encoder's time
is separate: ~10-30 ms for one prompt on CPU), unfiltered and with a 10 % allowed-id filter.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from micview.core.search import VectorIndex


def timed(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print(f"{'vectors':>9} {'dtype':8} {'memory MB':>9} {'search ms':>10} {'10% filter ms':>14} {'build s':>8}")
    for n in args.sizes:
        vecs = rng.standard_normal((n, args.dim), dtype=np.float32)
        ids = np.arange(n, dtype=np.int64)
        allowed = rng.random(n) < 0.1
        q = rng.standard_normal(args.dim).astype(np.float32)
        for dtype in ("float32", "float16"):
            t = time.perf_counter()
            index = VectorIndex(ids, vecs, dtype=dtype)
            build = time.perf_counter() - t
            plain = timed(lambda index=index, q=q: index.search(q, args.k), args.repeat)
            masked = timed(lambda index=index, q=q, a=allowed: index.search(q, args.k, allowed=a), args.repeat)
            mb = index.matrix.nbytes / 1e6
            print(f"{n:9d} {dtype:8} {mb:9.0f} {plain:10.1f} {masked:14.1f} {build:8.2f}")
            del index
        del vecs


if __name__ == "__main__":
    main()
