"""Benchmark data quality and analysis at scale from stored embeddings, with baselines from the same run.

    python scripts/bench_quality.py [--n 100000] [--dim 512] [--json OUT] [--thumbnails 1000]

Builds a project of ``n`` image rows whose embeddings are stored as micview stores them (float16 rows keyed
by content hash): synthetic, clustered vectors (1000 clusters, each a 16-dimensional sheet plus noise — real
embeddings are not uniform on the sphere), 1 % planted near duplicates (a copy with small noise) and a label
task of 10 classes derived from the clusters with 1 % of the labels flipped. Then it times, in one process:

* ``micview quality`` end to end (:func:`micview.ml.quality.quality_task`: reading the vectors, neighbour
  graph, duplicates, out-of-fold probabilities and confident learning, clusters, storing the run), with its
  per-stage times, the recall of the neighbour graph against brute force on 500 sampled rows, and the recall
  of the planted duplicates and flipped labels;
* ``micview analyse`` (image side, sampled similarity matrix, concept analysis with 40 random unit "prompts");
* baselines: the exact graph (blocked, all pairs) on a subset, scaled by (n / subset)² to ``n``, and
  one-query-at-a-time search through :class:`~micview.core.search.VectorIndex`, scaled to ``n`` queries.

The synthetic project has no thumbnails, so the image statistics and the pixel checks of candidate duplicates
are measured separately on ``--thumbnails`` generated 256-px JPEG thumbnails and reported per image.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from micview.core.search import VectorIndex, normalise
from micview.core.store import Project, Thumbnail
from micview.core.tasks import run_task

CLASSES = 10


def vectors(n: int, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unit vectors, cluster of each row, row each planted copy was copied from or −1)."""
    centres = rng.standard_normal((1000, dim), dtype=np.float32)
    sheets = rng.standard_normal((1000, 16, dim), dtype=np.float32) * np.float32(0.25)
    cluster = rng.integers(0, 1000, n)
    out = np.empty((n, dim), np.float32)
    for s in range(0, n, 8192):
        c = cluster[s : s + 8192]
        coef = rng.standard_normal((len(c), 16), dtype=np.float32)
        noise = rng.standard_normal((len(c), dim), dtype=np.float32) * np.float32(0.1)
        out[s : s + 8192] = normalise(centres[c] + np.einsum("nk,nkd->nd", coef, sheets[c]) + noise)
    source = np.full(n, -1)
    copies = rng.choice(n, n // 100, replace=False)
    originals = rng.choice(np.setdiff1d(np.arange(n), copies), len(copies), replace=False)
    noise = rng.standard_normal((len(copies), dim), dtype=np.float32) * np.float32(0.01)
    out[copies] = normalise(out[originals] + noise)
    cluster[copies] = cluster[originals]
    source[copies] = originals
    return out, cluster, source


def build(path: Path, vecs: np.ndarray, cluster: np.ndarray, rng: np.random.Generator) -> tuple[Project, np.ndarray]:
    """The project, and which rows have a flipped label."""
    p = Project.create(path)
    n = len(vecs)
    hashes = [f"{i:032x}" for i in range(n)]
    now = "2026-01-01T00:00:00+00:00"
    with p.transaction() as con:
        con.executemany(
            "INSERT INTO images (id, path, name, folder, content_hash, status, added_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'ok', ?, ?)",
            [(i + 1, f"f{i % 7}/im{i:06d}.png", f"im{i:06d}.png", f"f{i % 7}", hashes[i], now, now) for i in range(n)],
        )
    p.embeddings.put("bench", hashes, vecs)
    labels = cluster % CLASSES
    flipped = np.zeros(n, np.bool_)
    flip = rng.choice(n, n // 100, replace=False)
    labels[flip] = (labels[flip] + rng.integers(1, CLASSES, len(flip))) % CLASSES
    flipped[flip] = True
    p.labels.set_many("kind", {i + 1: f"class {labels[i]}" for i in range(n)})
    return p, flipped


def graph_recall(index: VectorIndex, rows: np.ndarray, k: int, sample: int, rng: np.random.Generator) -> float:
    pick = rng.choice(len(index), sample, replace=False)
    s = index.matrix[pick] @ index.matrix.T
    s[np.arange(sample), pick] = -np.inf
    exact = np.argsort(-s, axis=1)[:, :k]
    return float(np.mean([len(set(exact[i]) & set(rows[p])) / k for i, p in enumerate(pick)]))


def baselines(index: VectorIndex, subset: int, queries: int) -> dict[str, float]:
    from micview.core.quality.knn import exact_graph

    n = len(index)
    sub = index.matrix[:subset]
    t = time.perf_counter()
    exact_graph(sub, 10)
    exact_s = (time.perf_counter() - t) * (n / subset) ** 2
    t = time.perf_counter()
    for i in range(queries):
        index.search(index.matrix[i], 11)
    loop_s = (time.perf_counter() - t) * n / queries
    return {"exact_graph_s_extrapolated": round(exact_s, 1), "per_query_search_s_extrapolated": round(loop_s, 1)}


class RandomPrompts:
    """Stands in for a text encoder: random unit vectors (the concept analysis only needs vectors)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def encode_text(self, texts: list[str]) -> np.ndarray:
        rng = np.random.default_rng(len(texts))
        return normalise(rng.standard_normal((len(texts), self.dim), dtype=np.float32))


def thumbnails_rate(count: int, folder: Path) -> dict[str, float]:
    """Image statistics and pixel checks per image, on ``count`` generated 256-px JPEG thumbnails."""
    from PIL import Image

    from micview.core.quality import compute_stats
    from micview.core.quality.verify import ThumbnailPairs

    rng = np.random.default_rng(1)
    p = Project.create(folder / "thumbs.micview")
    y, x = np.mgrid[0:192, 0:256]
    with p.transaction():
        for i in range(count):
            a = rng.uniform(0.02, 0.3, 4)
            img = 128 + 60 * np.sin(x * a[0] + y * a[1]) + 40 * np.sin(x * a[2] - y * a[3]) + rng.normal(0, 8, x.shape)
            buf = io.BytesIO()
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, format="JPEG", quality=85)
            p.images.upsert(folder / f"t{i}.png", {"content_hash": f"{i:032x}", "status": "ok"},
                            Thumbnail(256, 192, "jpeg", buf.getvalue()))  # fmt: skip
    t = time.perf_counter()
    run_task(compute_stats(p))
    stats_s = time.perf_counter() - t
    ids = np.array([r.id for r in p.images.all()])
    pairs = ThumbnailPairs(p, ids)
    a, b = np.arange(count), rng.permutation(count)
    t = time.perf_counter()
    pairs(a, b)
    pair_s = time.perf_counter() - t
    p.close()
    return {"thumbnails": count, "stats_ms_per_image": round(1e3 * stats_s / count, 3),
            "pixel_check_ms_per_pair": round(1e3 * pair_s / count, 3)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--thumbnails", type=int, default=1000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from micview.ml.analysis import PromptGroups, analyse
    from micview.ml.classify import task_view
    from micview.ml.quality import quality_task
    from micview.ml.search import load_index

    rng = np.random.default_rng(0)
    out: dict[str, object] = {"n": args.n, "dim": args.dim, "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        vecs, cluster, source = vectors(args.n, args.dim, rng)
        p, flipped = build(Path(tmp) / "bench.micview", vecs, cluster, rng)
        view = task_view(p, "kind")
        t, cpu = time.perf_counter(), _cpu()
        r = run_task(quality_task(p, "bench", view=view))
        out["quality_s"] = round(time.perf_counter() - t, 2)
        out["quality_cpu_s"] = round(_cpu() - cpu, 2)  # all threads; less sensitive to other load than wall time
        out["quality_stages_s"] = r.params["seconds"]
        out["neighbours"] = r.params["neighbours"]
        index = load_index(p, "bench", approximate=False)
        graph_rows = _graph_rows(r, index)
        out["graph_recall_at_10"] = round(graph_recall(index, graph_rows, 10, 500, rng), 4)
        g = r.columns["duplicate_group"]
        copies = np.flatnonzero(source >= 0)
        found = (g[copies] >= 0) & (g[copies] == g[source[copies]])
        out["planted_duplicates"] = len(copies)
        out["planted_duplicate_recall"] = round(float(found.mean()), 4)
        out["images_in_duplicate_groups"] = int((g >= 0).sum())
        issue = r.columns["is_label_issue"]
        out["flipped_labels"] = int(flipped.sum())
        out["flipped_label_recall"] = round(float(issue[flipped].mean()), 4)
        out["label_issue_precision"] = round(float(flipped[issue].mean()) if issue.any() else 0.0, 4)
        out["label_probabilities"] = r.params["label_check"]["probabilities"]
        groups = PromptGroups("bench", {f"g{i}": [f"prompt {i}.{j}" for j in range(10)] for i in range(4)})
        t, cpu = time.perf_counter(), _cpu()
        run_task(analyse(p, "bench", view=view, groups=groups, embedder=RandomPrompts(args.dim)))
        out["analyse_s"] = round(time.perf_counter() - t, 2)
        out["analyse_cpu_s"] = round(_cpu() - cpu, 2)
        out.update(baselines(index, min(args.n, 10_000), 200))
        out["load_after"] = os.getloadavg()
        p.close()
        if args.thumbnails:
            out.update(thumbnails_rate(args.thumbnails, Path(tmp)))
    _print(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _graph_rows(r: object, index: VectorIndex) -> np.ndarray:
    """The neighbour graph the quality run used, recomputed the same way (rows into ``index``)."""
    from micview.ml.quality.neighbours import neighbour_graph

    return neighbour_graph(index, 10).rows


def _print(out: dict[str, object]) -> None:
    width = max(len(k) for k in out)
    for k, v in out.items():
        print(f"{k:<{width}}  {v}")
    q, exact = float(out["quality_s"]), float(out["exact_graph_s_extrapolated"])  # type: ignore[arg-type]
    print(f"\nquality: {q:.1f} s ({out['quality_cpu_s']} s of CPU) for {out['n']} images; the exact all-pairs graph "
          f"alone would take ~{exact:.0f} s ({exact / q:.1f}x the whole quality run)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
