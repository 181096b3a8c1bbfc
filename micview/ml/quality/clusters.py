"""Clusters of a project's vectors, each with a representative image and a name.

``kmeans`` (default; every image gets a cluster, so the map can be coloured by it) with ``k`` chosen by the
user or ``round(sqrt(n / 2))`` clipped to 2…:data:`MAX_AUTO_K`; ``hdbscan`` (scikit-learn's) finds as many
clusters as the density shows and leaves the rest as noise (−1), practical to a few ten thousand images.
Both run on a PCA of the unit vectors (:data:`PCA_DIM` dimensions): k-means on 100k × 512 vectors then
takes seconds. The representative is the member closest to its cluster's centre (in the full space). The
name is the nearest prompt for CLIP-family models when prompts are given, else the most common label among
the members (when at least half of them carry it), else ``cluster N``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from micview.core.quality.knn import row_blocks

MAX_AUTO_K = 40
PCA_DIM = 32
MINI_BATCH_ABOVE = 5_000


@dataclass(frozen=True)
class Clusters:
    labels: np.ndarray  # (n,) int32, −1 noise
    centroids: np.ndarray  # (n_clusters, d) unit vectors, full space
    representatives: np.ndarray  # (n_clusters,) row of the member closest to the centre
    method: str

    @property
    def count(self) -> int:
        return len(self.centroids)


def auto_k(n: int) -> int:
    return max(2, min(MAX_AUTO_K, round(math.sqrt(n / 2))))


def _reduced(unit: np.ndarray, seed: int) -> np.ndarray:
    if unit.shape[1] <= PCA_DIM:
        return unit.astype(np.float32)
    rng = np.random.default_rng(seed)
    sample = unit[np.sort(rng.choice(len(unit), min(len(unit), 20_000), replace=False))].astype(np.float32)
    mean = sample.mean(0)
    axes = np.linalg.svd(sample - mean, full_matrices=False)[2][:PCA_DIM].T
    out = np.empty((len(unit), axes.shape[1]), np.float32)
    for s, e in row_blocks(len(unit), 16_384):
        out[s:e] = (unit[s:e] - mean) @ axes
    return out


def cluster(unit: np.ndarray, method: str = "kmeans", k: int | None = None, *, seed: int = 0) -> Clusters:
    """Cluster unit rows (see the module docstring); ``method`` is 'kmeans' or 'hdbscan'."""
    n = len(unit)
    if n < 2:
        return _finish(unit, np.zeros(n, np.int32), "single image")
    Z = _reduced(unit, seed)
    if method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        labels = HDBSCAN(min_cluster_size=max(3, n // 200), copy=True).fit_predict(Z)
        return _finish(unit, labels.astype(np.int32), "hdbscan")
    if method != "kmeans":
        raise ValueError(f"unknown cluster method {method!r}; use kmeans or hdbscan")
    from sklearn.cluster import KMeans, MiniBatchKMeans

    k = min(k or auto_k(n), n)
    algo = (
        MiniBatchKMeans(k, random_state=seed, n_init=1, batch_size=4096)
        if n > MINI_BATCH_ABOVE
        else KMeans(k, random_state=seed, n_init=4)
    )
    return _finish(unit, algo.fit_predict(Z).astype(np.int32), f"kmeans k={k}")


def _finish(unit: np.ndarray, labels: np.ndarray, method: str) -> Clusters:
    """Renumber clusters by size (largest 0), compute centres and representatives in the full space."""
    found = [c for c in np.unique(labels) if c >= 0]
    order = sorted(found, key=lambda c: (-int((labels == c).sum()), int(c)))
    remap = np.full(int(labels.max(initial=-1)) + 2, -1, np.int32)
    for new, old in enumerate(order):
        remap[old] = new
    labels = np.where(labels >= 0, remap[labels], -1).astype(np.int32)
    dim = unit.shape[1]
    centroids = np.zeros((len(order), dim), np.float32)
    reps = np.zeros(len(order), np.int64)
    for c in range(len(order)):
        rows = np.flatnonzero(labels == c)
        centre = unit[rows].mean(0)
        centroids[c] = centre / max(float(np.linalg.norm(centre)), 1e-12)
        reps[c] = rows[int(np.argmax(unit[rows] @ centroids[c]))]
    return Clusters(labels, centroids, reps, method)


def name_clusters(
    clusters: Clusters,
    labels: Sequence[str | None],
    prompts: tuple[list[str], np.ndarray] | None = None,
) -> list[str]:
    """A name per cluster: nearest prompt (``(names, unit text vectors)``), majority label, or ``cluster N``."""
    names: list[str] = []
    for c in range(clusters.count):
        if prompts is not None and len(prompts[0]):
            names.append(prompts[0][int(np.argmax(prompts[1] @ clusters.centroids[c]))])
            continue
        members = np.flatnonzero(clusters.labels == c).tolist()
        counted = Counter(str(labels[r]) for r in members if labels[r] is not None)
        top = counted.most_common(1)
        names.append(top[0][0] if top and top[0][1] * 2 >= len(members) else f"cluster {c}")
    return _unique(names)


def _unique(names: list[str]) -> list[str]:
    """Two clusters nearest the same prompt or label become 'X (1)', 'X (2)'."""
    counts = Counter(names)
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        seen[n] += 1
        out.append(f"{n} ({seen[n]})" if counts[n] > 1 else n)
    return out
