"""The figures of a project of N images, in one run: search, the map's drawing, UMAP.

    python scripts/bench_scale.py --n 1000000 [--dim 512] [--json OUT] [--skip-umap] [--fit-sample 50000]

Data: N random unit vectors (uniform on the sphere — the worst case for approximate search, and fine for
the map's timings), plus the same search on clustered vectors (closer to real embeddings); see
scripts/bench_search.py for both generators. Writes (JSON, ``null`` where not measured):

- ``search_ms_p50``, ``recall_at_10``: top-10 through :class:`micview.core.search.VectorIndex` with the
  approximate index (:mod:`micview.ml.ann`) and exact re-rank, random vectors; ``exact_ms_p50`` the exact scan
  on the same data in the same run; ``*_clustered`` the same on clustered vectors.
- ``umap_fit_s`` (fit on ``fit_sample`` vectors), ``umap_place_s`` (``transform`` of the rest) and
  ``umap_total_s``, through :func:`micview.ml.maps.fit_map` with the app's default parameters. The first UMAP
  call compiles numba code; a warm-up on 2 000 vectors is done first and not counted.
- ``map_colour_ms``, ``map_select_ms``, ``map_pick_ms``: the scatter view's recolour, 500k-point selection and
  hover pick, taken from ``measure_map(xy) -> dict`` in ``scripts/bench_map.py`` when that script exists
  (the GUI's own benchmark); ``null`` otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import measure

MAP_KEYS = ("map_colour_ms", "map_select_ms", "map_pick_ms")


def umap_figures(n: int, dim: int, fit_sample: int) -> tuple[dict[str, Any], np.ndarray]:
    from bench_search import unit_vectors

    from micview.ml.maps import fit_map

    rng = np.random.default_rng(1)
    fit_map(unit_vectors(2_000, dim, "random", rng), "umap", {"fit_sample": 1_000})  # numba compile, uncounted
    vectors = unit_vectors(n, dim, "random", rng)
    t = time.perf_counter()
    fitted = fit_map(vectors, "umap", {"fit_sample": fit_sample})
    total = time.perf_counter() - t
    figures = {
        "umap_fit_s": round(fitted.fit_seconds, 1),
        "umap_place_s": round(fitted.place_seconds, 1),
        "umap_total_s": round(total, 1),
        "umap_fit_sample": min(n, fit_sample),
    }
    return figures, fitted.xy


def map_figures(xy: np.ndarray) -> dict[str, Any]:
    """The GUI scatter benchmark's figures when ``scripts/bench_map.py`` provides ``measure_map``."""
    try:
        measure_map = importlib.import_module("bench_map").measure_map
    except (ImportError, AttributeError):
        return dict.fromkeys(MAP_KEYS)
    found = measure_map(xy)
    return {key: found.get(key) for key in MAP_KEYS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=30)
    ap.add_argument("--fit-sample", type=int, default=50_000)
    ap.add_argument("--skip-umap", action="store_true")
    ap.add_argument("--skip-clustered", action="store_true", help="search on random vectors only")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    out: dict[str, Any] = {}

    def record(figures: dict[str, Any]) -> None:  # printed (and saved) as measured: a 1M run takes a while
        out.update(figures)
        for key, value in figures.items():
            print(f"{key:28} {'null' if value is None else value}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(out, indent=2) + "\n")

    record({"n": args.n, "dim": args.dim, "data": "random unit vectors"})
    random = measure(args.n, args.dim, "random", 10, args.queries)
    record({k: random[k] for k in ("search_ms_p50", "recall_at_10", "exact_ms_p50", "ann_build_s")})
    if not args.skip_clustered:
        clustered = measure(args.n, args.dim, "clustered", 10, args.queries)
        record({f"{k}_clustered": clustered[k] for k in ("search_ms_p50", "recall_at_10", "exact_ms_p50")})
    if args.skip_umap:
        record({"umap_fit_s": None, "umap_place_s": None, "umap_total_s": None})
        xy = np.random.default_rng(2).standard_normal((args.n, 2)).astype(np.float32)
    else:
        figures, xy = umap_figures(args.n, args.dim, args.fit_sample)
        record(figures)
    record(map_figures(xy))


if __name__ == "__main__":
    main()
