"""Per-image scores from the neighbour graph and the clusters: uniqueness, outliers, representativeness,
and flags from the cheap image statistics.

* **uniqueness** (FiftyOne Brain's definition): weighted mean distance to the 3 nearest other images
  (weights 0.6, 0.3, 0.1), divided by the largest in the set: 0 for an image with an identical copy, 1 for
  the most isolated one. Useful to sort by when choosing what to label.
* **outlier_score**: mean cosine distance to the ``k`` nearest other images divided by the median of that over
  the set: 1 is typical, :data:`OUTLIER_RATIO` or more is flagged (far from everything, whatever the model's
  distance scale).
* **representativeness**: cosine similarity to the centre of its cluster, scaled to [0, 1] over the set: high
  for the images that look most like their group (good examples to show or to label first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from micview.core.quality.knn import Neighbours

UNIQUENESS_WEIGHTS = (0.6, 0.3, 0.1)
OUTLIER_RATIO = 1.6


def _finite_or(d: np.ndarray, fill: float) -> np.ndarray:
    out: np.ndarray = np.where(np.isfinite(d), d, fill)
    return out


def uniqueness(graph: Neighbours) -> np.ndarray:
    """See the module docstring; float32 in [0, 1] (all 0 when every image has an identical copy)."""
    d = graph.distances()[:, : len(UNIQUENESS_WEIGHTS)]
    if d.shape[1] == 0:
        return np.ones(len(d), np.float32)
    finite = d[np.isfinite(d)]
    d = _finite_or(d, float(finite.max()) if len(finite) else 1.0)
    w = np.asarray(UNIQUENESS_WEIGHTS[: d.shape[1]], np.float64)
    raw = (d * w).sum(1) / w.sum()
    top = float(raw.max(initial=0.0))
    out: np.ndarray = (raw / top if top > 0 else raw).astype(np.float32)
    return out


def outlier_score(graph: Neighbours, k: int | None = None) -> np.ndarray:
    """See the module docstring; float32, 1 = as far from its neighbours as the median image."""
    d = graph.distances()[:, : k or graph.k]
    if d.shape[1] == 0:
        return np.ones(len(d), np.float32)
    finite = np.isfinite(d)
    mean = np.where(finite.any(1), np.where(finite, d, 0).sum(1) / np.maximum(finite.sum(1), 1), np.nan)
    typical = float(np.nanmedian(mean)) if np.isfinite(mean).any() else 0.0
    out = mean / typical if typical > 0 else np.ones(len(d))
    return np.nan_to_num(out, nan=1.0).astype(np.float32)


def representativeness(unit: np.ndarray, cluster: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine to the own cluster's centre (rows of ``centroids``, unit), min–max scaled; 0 for noise (−1)."""
    sims = np.full(len(unit), np.nan, np.float64)
    member = cluster >= 0
    if member.any():
        sims[member] = np.einsum("nd,nd->n", unit[member], centroids[cluster[member]])
    ok = np.isfinite(sims)
    if not ok.any():
        return np.zeros(len(unit), np.float32)
    low, high = sims[ok].min(), sims[ok].max()
    scaled = (sims - low) / (high - low) if high > low else np.ones_like(sims)
    return np.nan_to_num(scaled, nan=0.0).astype(np.float32)


@dataclass(frozen=True, slots=True)
class StatFlags:
    """Thresholds on the image statistics (:mod:`micview.core.quality.imagestats`).

    ``blurry``: Laplacian variance below ``blur_relative ×`` the set's median *and* below ``blur_absolute``
    (a relative rule alone would flag the smoothest tenth of any set; an absolute one alone depends on the
    content). ``dark``: mean grey below ``dark``. ``saturated``: more than ``saturated`` of the pixels clipped.
    ``low_information``: grey-level entropy below ``low_entropy`` bits.
    """

    blur_relative: float = 0.1
    blur_absolute: float = 2e-3
    dark: float = 0.12
    saturated: float = 0.3
    low_entropy: float = 3.0

    def apply(
        self, blur: np.ndarray, brightness: np.ndarray, saturation: np.ndarray, entropy: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Boolean arrays ``is_blurry``, ``is_dark``, ``is_saturated``, ``is_low_information`` (NaN → False)."""
        typical = float(np.nanmedian(blur)) if np.isfinite(blur).any() else 0.0
        with np.errstate(invalid="ignore"):
            return {
                "is_blurry": (blur < self.blur_relative * typical) & (blur < self.blur_absolute),
                "is_dark": brightness < self.dark,
                "is_saturated": saturation > self.saturated,
                "is_low_information": entropy < self.low_entropy,
            }
