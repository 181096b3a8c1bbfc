"""Small statistics shared by the concept and image-side analyses (cosine silhouette, sampling, spread)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SILHOUETTE_SAMPLE = 5_000


def silhouette(X: np.ndarray, labels: Sequence[object], *, seed: int = 0) -> float | None:
    """Mean cosine silhouette of ``labels`` (sampled to :data:`SILHOUETTE_SAMPLE` rows); ``None`` when
    undefined (fewer than two classes, or as many classes as rows)."""
    from sklearn.metrics import silhouette_score

    codes = np.unique(np.asarray([str(v) for v in labels]), return_inverse=True)[1]
    n_classes = int(codes.max(initial=-1)) + 1
    if len(codes) < 3 or not 2 <= n_classes <= len(codes) - 1:
        return None
    sample = SILHOUETTE_SAMPLE if len(codes) > SILHOUETTE_SAMPLE else None
    return float(silhouette_score(X, codes, metric="cosine", sample_size=sample, random_state=seed))


def stratified_sample(labels: np.ndarray, size: int, *, seed: int = 0) -> np.ndarray:
    """Row indices, at most ``size``, keeping each label's share (at least one row per label); sorted."""
    n = len(labels)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    values, codes = np.unique(labels, return_inverse=True)
    picked = []
    for c in range(len(values)):
        rows = np.flatnonzero(codes == c)
        take = max(1, round(size * len(rows) / n))
        picked.append(rng.choice(rows, min(take, len(rows)), replace=False))
    out = np.sort(np.concatenate(picked))
    return out[np.sort(rng.choice(len(out), size, replace=False))] if len(out) > size else out


def unit_mean(X: np.ndarray) -> np.ndarray:
    v = X.mean(0)
    return np.asarray(v / max(float(np.linalg.norm(v)), 1e-12), np.float32)
