"""Near-duplicate images from the nearest-neighbour graph, checked on the pixels, and leaks.

Candidates only ever come from the graph (each image's few nearest neighbours): no all-pairs comparison of
vectors, hashes or pixels is made. An edge is a near duplicate when

* its cosine distance is below ``relative ×`` the set's typical distance (embedding alone), or
* it is within ``verify_relative ×`` that distance and the thumbnails agree
  (:mod:`micview.core.quality.verify`: normalised cross-correlation with crops, which catches crops that
  move the vector as far as a different micrograph does), or the perceptual hashes agree and the pixels
  nearly do. Without thumbnails, hash agreement alone is accepted up to ``hash_relative``.

Why relative: how close two copies land depends on the model, so a fixed threshold is wrong for one model
or another. As in cleanlab's near-duplicate check the threshold scales with a typical distance of the set;
here the median distance to the ``k``-th neighbour, because the median distance to the *first* neighbour
drops as soon as many images have copies (adding 160 copies to the 345 DoITPoMS micrographs lowered it
from 0.33 to 0.21, while the 10th neighbour moved from 0.44 to 0.42). The defaults come from planted copies
of those micrographs (docs/analysis.md gives the recall). Byte-identical files share one vector (embeddings
are keyed by content), so they always come out at distance ~0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from micview.core.quality.imagestats import hamming
from micview.core.quality.knn import Neighbours

LEAK_FOLDER = 1
LEAK_LABEL = 2


@dataclass(frozen=True, slots=True)
class DuplicateRule:
    """When a graph edge is a near duplicate (distances relative to the set's typical distance).

    ``relative``: on the embedding alone. Up to ``verify_relative`` the first ``verify_neighbours`` edges of
    each image are checked on the pixels (:mod:`micview.core.quality.verify`) when thumbnails exist:
    correlation ≥ ``pixel_match``, or ≥ ``pixel_match_with_hash`` when the perceptual hashes also agree within
    ``hash_bits``. Without thumbnails a hash agreement up to ``hash_relative`` is accepted.
    """

    relative: float = 0.1
    verify_relative: float = 0.6
    verify_neighbours: int = 2
    pixel_match: float = 0.9
    pixel_match_with_hash: float = 0.75
    hash_bits: int = 10
    hash_relative: float = 0.5


PairCheck = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class Duplicates:
    """Per row: nearest other row and its distance, whether that is a near duplicate, and the group.

    ``of`` is the row of the nearest image that counts as its near duplicate (else −1); ``distance`` the
    cosine distance to that image, or to the most similar other image when there is none (inf when alone);
    ``hash_distance`` the hash bits between the same two (−1 unknown); ``group`` numbers the connected groups of
    near duplicates (−1 none); ``threshold`` and ``checked_up_to`` are the distances used.
    """

    of: np.ndarray
    distance: np.ndarray
    hash_distance: np.ndarray
    group: np.ndarray
    threshold: float
    checked_up_to: float

    def groups(self) -> list[np.ndarray]:
        """Rows of each group (sorted), largest group first."""
        found = [np.flatnonzero(self.group == g) for g in range(int(self.group.max(initial=-1)) + 1)]
        return sorted(found, key=lambda rows: (-len(rows), int(rows[0])))


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label (smallest member row) of each of ``n`` nodes, for edges ``a[i]–b[i]``."""
    parent = np.arange(n)
    if len(a) == 0:
        return parent
    while True:
        pa, pb = parent[a], parent[b]
        low = np.minimum(pa, pb)
        before = parent.copy()
        np.minimum.at(parent, pa, low)
        np.minimum.at(parent, pb, low)
        parent = parent[parent]
        if np.array_equal(parent, before):
            return parent


def typical_distance(kth: np.ndarray) -> float:
    """Median of the distances to the ``k``-th neighbour over rows that have one at a positive distance."""
    ok = kth[np.isfinite(kth) & (kth > 1e-6)]
    return float(np.median(ok)) if len(ok) else 0.0


def near_duplicates(
    graph: Neighbours,
    hashes: np.ndarray | None = None,
    rule: DuplicateRule | None = None,
    *,
    hash_ok: np.ndarray | None = None,
    pixels: PairCheck | None = None,
) -> Duplicates:
    """Near duplicates among the graph's edges (see the module docstring and :class:`DuplicateRule`).

    ``hashes``: uint64 perceptual hash per row (or ``None``), ``hash_ok`` the rows whose hash (and thumbnail)
    is known; ``pixels(a, b)`` returns the pixel correlation of row pairs (NaN where it cannot tell).
    """
    rule = rule or DuplicateRule()
    d = graph.distances()
    n, k = d.shape
    scale = typical_distance(d[:, -1] if k else np.zeros(0))
    threshold, wide = rule.relative * scale + 1e-6, rule.verify_relative * scale + 1e-6
    src, dst, dist = np.repeat(np.arange(n), k), graph.rows.ravel(), d.ravel()
    valid = dst >= 0
    known = valid if hash_ok is None else valid & hash_ok[src] & hash_ok[np.maximum(dst, 0)]
    bits = np.full(len(dst), -1, np.int16)
    if hashes is not None:
        bits[known] = hamming(hashes[src[known]], hashes[dst[known]])
    same_hash = (bits >= 0) & (bits <= rule.hash_bits)
    keep = valid & (dist <= threshold)
    check = valid & ~keep & (dist <= wide) & (np.tile(np.arange(k), n) < rule.verify_neighbours)
    if pixels is not None and check.any():
        corr = _pixel_scores(pixels, src, dst, dist, check, n)
        with np.errstate(invalid="ignore"):
            keep |= check & ((corr >= rule.pixel_match) | (same_hash & (corr >= rule.pixel_match_with_hash)))
        check &= np.isnan(corr)  # pairs the pixels could not judge fall back to the hash rule
    keep |= check & same_hash & (dist <= rule.hash_relative * scale + 1e-6)
    return _grouped(
        graph, keep.reshape(n, k) if k else np.zeros((n, 0), np.bool_), d, bits.reshape(n, k), threshold, wide
    )


def _pixel_scores(
    pixels: PairCheck, src: np.ndarray, dst: np.ndarray, dist: np.ndarray, check: np.ndarray, n: int
) -> np.ndarray:
    """Correlations of the edges in ``check``: each unordered pair once, the closest pairs first."""
    idx = np.flatnonzero(check)
    a, b = np.minimum(src[idx], dst[idx]), np.maximum(src[idx], dst[idx])
    keys, first, inverse = np.unique(a * n + b, return_index=True, return_inverse=True)
    order = np.argsort(dist[idx][first], kind="stable")
    scores = np.full(len(keys), np.nan)
    scores[order] = pixels(a[first][order], b[first][order])
    corr = np.full(len(dst), np.nan)
    corr[idx] = scores[inverse]
    return corr


def _grouped(
    graph: Neighbours, keep: np.ndarray, d: np.ndarray, bits: np.ndarray, threshold: float, wide: float
) -> Duplicates:
    n, k = keep.shape
    src = np.repeat(np.arange(n), k)[keep.ravel()]
    label = components(n, src, graph.rows.ravel()[keep.ravel()])
    in_group = np.bincount(label, minlength=n)[label] > 1
    groups = np.full(n, -1, np.int32)
    groups[in_group] = np.unique(label[in_group], return_inverse=True)[1]
    if k == 0:
        return Duplicates(
            np.full(n, -1, np.int64), np.full(n, np.inf, np.float32), np.full(n, -1, np.int16), groups, threshold, wide
        )
    # the nearest image that is a duplicate (not always the first neighbour, which may be a look-alike)
    first = np.where(keep.any(1), keep.argmax(1), 0)
    of = np.where(keep.any(1), graph.rows[np.arange(n), first], -1).astype(np.int64)
    dist = np.where(keep.any(1), d[np.arange(n), first], d[:, 0]).astype(np.float32)
    hbits = np.where(keep.any(1), bits[np.arange(n), first], bits[:, 0]).astype(np.int16)
    return Duplicates(of, dist, hbits, groups, threshold, wide)


def leaks(group: np.ndarray, folders: Sequence[str], labels: Sequence[str | None]) -> np.ndarray:
    """Per row, a bit mask: :data:`LEAK_FOLDER` when its duplicate group spans several folders (a copy in
    both a training and a test folder), :data:`LEAK_LABEL` when its members carry different labels."""
    out = np.zeros(len(group), np.int8)
    for g in np.unique(group[group >= 0]):
        rows = np.flatnonzero(group == g).tolist()
        mask = 0
        if len({folders[r] for r in rows}) > 1:
            mask |= LEAK_FOLDER
        if len({labels[r] for r in rows if labels[r] is not None}) > 1:
            mask |= LEAK_LABEL
        out[rows] = mask
    return out
