"""Benchmark search latency and recall: exact numpy scan vs the approximate index + exact re-rank.

    python scripts/bench_search.py [--sizes 100000 1000000] [--dim 512] [--k 10] [--queries 30]
                                   [--data random clustered] [--json OUT]

Measures :meth:`micview.core.search.VectorIndex.search` for one query vector, as the app runs it (the text
encoder's time is separate: ~10-30 ms for one prompt on CPU): unfiltered, exact (``approximate`` off) and
with :mod:`micview.ml.ann` attached, plus recall@k of the approximate results against the exact ones and the
10 %-filter latency. Data: ``random`` = unit vectors uniform on the sphere (the worst case for approximate
search: no structure, neighbours barely closer than anything else); ``clustered`` = 1000 Gaussian clusters
(more like real embeddings), queries near data points. Both paths run in the same process, back to back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from micview.core.search import VectorIndex, normalise


def unit_vectors(n: int, dim: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors, made in chunks so that 1M × 512 needs no float64 temporaries."""
    out = np.empty((n, dim), np.float32)
    centres = normalise(rng.standard_normal((1000, dim), dtype=np.float32))
    for s in range(0, n, 65_536):
        m = min(65_536, n - s)
        chunk = rng.standard_normal((m, dim), dtype=np.float32)
        if kind == "clustered":
            chunk = centres[rng.integers(0, len(centres), m)] + chunk * np.float32(0.6 / np.sqrt(dim))
        out[s : s + m] = normalise(chunk)
    return out


def queries(vectors: np.ndarray, kind: str, count: int, rng: np.random.Generator) -> np.ndarray:
    dim = vectors.shape[1]
    if kind == "random":
        return normalise(rng.standard_normal((count, dim), dtype=np.float32))
    near = vectors[rng.integers(0, len(vectors), count)]
    return normalise(near + rng.standard_normal((count, dim), dtype=np.float32) * np.float32(0.3 / np.sqrt(dim)))


def timed(fn, qs: np.ndarray) -> tuple[float, list]:
    fn(qs[0])  # warm-up
    times, results = [], []
    for q in qs:
        t = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3, results


def measure(n: int, dim: int, kind: str, k: int, count: int, seed: int = 0) -> dict[str, float]:
    """One size and data kind: exact and approximate p50 (ms), recall@k, build time (s)."""
    from micview.ml import ann

    rng = np.random.default_rng(seed)
    vectors = unit_vectors(n, dim, kind, rng)
    qs = queries(vectors, kind, count, rng)
    index = VectorIndex(np.arange(n, dtype=np.int64), vectors)
    del vectors
    allowed = rng.random(n) < 0.1
    exact_ms, exact = timed(lambda q: index.search(q, k), qs)
    exact_f_ms, _ = timed(lambda q: index.search(q, k, allowed=allowed), qs)
    t = time.perf_counter()
    ann.attach(index, "bench")
    build_s = time.perf_counter() - t
    approx_ms, approx = timed(lambda q: index.search(q, k), qs)
    approx_f_ms, _ = timed(lambda q: index.search(q, k, allowed=allowed), qs)
    recall = np.mean([len(set(a.ids) & set(e.ids)) / k for a, e in zip(approx, exact, strict=True)])
    return {
        "n": n,
        "data": kind,
        "exact_ms_p50": round(exact_ms, 2),
        "search_ms_p50": round(approx_ms, 2),
        "recall_at_10" if k == 10 else f"recall_at_{k}": round(float(recall), 4),
        "exact_filter10_ms_p50": round(exact_f_ms, 2),
        "filter10_ms_p50": round(approx_f_ms, 2),
        "ann_build_s": round(build_s, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--data", nargs="+", default=["random", "clustered"], choices=["random", "clustered"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    head = f"{'vectors':>9} {'data':9} {'exact ms':>9} {'approx ms':>10} {'recall@k':>9}"
    print(f"{head} {'exact 10%-filter':>17} {'approx 10%-filter':>18} {'build s':>8}")
    rows = []
    for n in args.sizes:
        for kind in args.data:
            r = measure(n, args.dim, kind, args.k, args.queries)
            rows.append(r)
            recall = r[next(key for key in r if key.startswith("recall"))]
            print(
                f"{n:9d} {kind:9} {r['exact_ms_p50']:9.1f} {r['search_ms_p50']:10.1f} {recall:9.3f} "
                f"{r['exact_filter10_ms_p50']:17.1f} {r['filter10_ms_p50']:18.1f} {r['ann_build_s']:8.2f}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
