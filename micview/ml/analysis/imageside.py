"""The image side of an analysis, for any model: how well the labels separate in the embedding space.

* label silhouette (cosine; sampled to 5000 images above that);
* per-class spread: mean cosine distance of a class's images to its centre (large = a heterogeneous class);
* class-centre similarities;
* the most confusable class pairs: the share of each image's 5 nearest labelled neighbours that carry the
  other label, both ways, with the closest cross-label image pairs as examples to look at. Above 2000
  labelled images the neighbours are counted for a stratified sample of 2000 of them (against all).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from micview.core.search import VectorIndex
from micview.ml.analysis.stats import silhouette, unit_mean

NEIGHBOURS = 5
SAMPLE_QUERIES = 2_000
TOP_PAIRS = 5
EXAMPLES = 3


@dataclass(frozen=True)
class ConfusablePair:
    a: str
    b: str
    neighbour_share: float  # share of a's and b's neighbours carrying the other label
    centre_similarity: float
    examples: list[tuple[int, int, float]]  # (image id in a, image id in b, cosine), closest first


@dataclass
class ImageSide:
    classes: list[str]
    counts: dict[str, int]
    label_silhouette: float | None
    spread: dict[str, float]
    centre_sims: np.ndarray  # (C, C)
    neighbour_share: np.ndarray  # (C, C): row class's neighbours with the column class, fraction
    confusable: list[ConfusablePair] = field(default_factory=list)
    neighbours_from: int = 0  # images whose neighbours were counted (a stratified sample above 2000)

    def summary(self) -> dict[str, Any]:
        return {
            "classes": self.classes,
            "counts": self.counts,
            "label_silhouette": self.label_silhouette,
            "spread": self.spread,
            "centre_similarity": {
                a: {b: round(float(v), 6) for b, v in zip(self.classes, row, strict=True)}
                for a, row in zip(self.classes, self.centre_sims, strict=True)
            },
            "neighbour_share": {
                a: {b: round(float(v), 6) for b, v in zip(self.classes, row, strict=True)}
                for a, row in zip(self.classes, self.neighbour_share, strict=True)
            },
            "confusable_pairs": [asdict(p) for p in self.confusable],
            "neighbours_counted_for": self.neighbours_from,
        }


def image_side(image_ids: np.ndarray, unit: np.ndarray, labels: list[str | None]) -> ImageSide | None:
    """See the module docstring; ``None`` when fewer than two labels have images."""
    rows = np.array([i for i, lab in enumerate(labels) if lab is not None], np.int64)
    y = [str(labels[i]) for i in rows]
    counts = Counter(y)
    if len(counts) < 2:
        return None
    classes = sorted(counts, key=lambda c: (-counts[c], c))
    code = np.array([classes.index(c) for c in y])
    X = unit[rows].astype(np.float32)
    centres = np.stack([unit_mean(X[code == c]) for c in range(len(classes))])
    spread = {c: round(float(1 - (X[code == i] @ centres[i]).mean()), 6) for i, c in enumerate(classes)}
    share, examples, queried = _neighbour_share(image_ids[rows], X, code, len(classes))
    side = ImageSide(classes, {c: counts[c] for c in classes}, silhouette(X, y), spread, centres @ centres.T, share)
    side.confusable = _confusable(side, examples, np.bincount(code, minlength=len(classes)))
    side.neighbours_from = queried
    return side


def _neighbour_share(
    ids: np.ndarray, X: np.ndarray, code: np.ndarray, n_classes: int
) -> tuple[np.ndarray, dict[tuple[int, int], list[tuple[int, int, float]]], int]:
    """Share of each class's neighbours by class, cross-label examples, and how many images were queried
    (all of them up to :data:`SAMPLE_QUERIES`, else a stratified sample against all labelled images)."""
    from micview.core.quality.knn import neighbours_of
    from micview.ml.analysis.stats import stratified_sample
    from micview.ml.quality.neighbours import neighbour_graph

    if len(ids) > SAMPLE_QUERIES:
        queries = stratified_sample(code, SAMPLE_QUERIES)
        graph = neighbours_of(queries, X, NEIGHBOURS)
    else:
        queries = np.arange(len(ids))
        graph = neighbour_graph(VectorIndex(ids, X), NEIGHBOURS)
    src = np.repeat(queries, graph.k)
    dst, sim = graph.rows.ravel(), graph.sims.ravel()
    ok = dst >= 0
    src, dst, sim = src[ok], dst[ok], sim[ok]
    per_row = np.bincount(src, minlength=len(ids)).astype(np.float64)
    share = np.zeros((n_classes, n_classes))
    np.add.at(share, (code[src], code[dst]), 1.0 / per_row[src])
    share /= np.maximum(np.bincount(code[queries], minlength=n_classes)[:, None], 1)
    cross = code[src] != code[dst]
    a, b = np.minimum(code[src], code[dst])[cross], np.maximum(code[src], code[dst])[cross]
    first = np.where(code[src][cross] == a, ids[src][cross], ids[dst][cross])
    second = np.where(code[src][cross] == a, ids[dst][cross], ids[src][cross])
    csim = sim[cross]
    order = np.lexsort((-csim, b, a))
    key = (a * n_classes + b)[order]
    examples: dict[tuple[int, int], list[tuple[int, int, float]]] = {}
    if not len(key):  # no neighbour crosses a label: nothing is confusable
        return share, examples, len(queries)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    for s, e in zip(starts.tolist(), [*starts[1:].tolist(), len(key)], strict=True):
        found = examples.setdefault((int(a[order[s]]), int(b[order[s]])), [])
        for r in order[s:e].tolist():  # closest first; each image once per example column
            pair = (int(first[r]), int(second[r]))
            if len(found) < EXAMPLES and all(pair[0] != x and pair[1] != y for x, y, _ in found):
                found.append((*pair, round(float(csim[r]), 6)))
    return share, examples, len(queries)


def _confusable(
    side: ImageSide, examples: dict[tuple[int, int], list[tuple[int, int, float]]], sizes: np.ndarray
) -> list[ConfusablePair]:
    scored = []
    for (a, b), found in examples.items():
        mixed = (side.neighbour_share[a, b] * sizes[a] + side.neighbour_share[b, a] * sizes[b]) / (sizes[a] + sizes[b])
        scored.append(
            ConfusablePair(
                side.classes[a], side.classes[b], round(float(mixed), 6), round(float(side.centre_sims[a, b]), 6), found
            )
        )
    return sorted(scored, key=lambda p: -p.neighbour_share)[:TOP_PAIRS]
