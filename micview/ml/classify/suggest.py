"""What to label next: first cover the data, then ask where the classifier is unsure, class by class.

Why this order: with a few labels, the biggest errors come from whole regions of the data that no label
touches (a technique or material nobody labelled yet: a class never seen is worth most, and the classifier
cannot be unsure about a class it does not know). Pure uncertainty sampling keeps picking images from one
ambiguous cluster and ignores those regions; on the DoITPoMS dev set it taught the classifier less than
labelling at random. So each batch of ``n``:

1. **Cover.** The images are grouped into regions (k-means on the vectors, about ``sqrt(N / 4)`` regions).
   Each region without any label yet, largest first, contributes its most typical image (closest to the
   region's centre). With fewer than two classes labelled there is no classifier and every slot covers;
   otherwise covering takes at most half the batch, or all but one slot while some of the task's classes
   have no label at all.
2. **Uncertainty, balanced.** The remaining slots go round the predicted classes (the class with the fewest
   labels first), each time to the image of that predicted class with the largest
   ``(1 − margin) × distance to the nearest labelled or already chosen image`` (a weighted core-set step,
   Sener & Savarese 2018), so no class and no single ambiguous cluster takes the whole batch.

Never suggested: labelled images and near-duplicates of labelled or already chosen images (cosine distance
below a tenth of the typical nearest-neighbour distance: frames of the same specimen). Each
:class:`Suggestion` carries a ``reason`` a user can read.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

COVER_SHARE = 0.5  # of a batch, once every class has a label and a classifier exists
WITHIN_CLASS = "uncertain"  # how to rank the images of one predicted class: 'uncertain' or 'mixed'
MAX_REFERENCE = 2000  # images used to estimate distance scales on large projects (a fixed random sample)
DUPLICATE_FRACTION = 0.1


@dataclass(frozen=True, slots=True)
class Suggestion:
    image_id: int
    uncertainty: float  # 1 − (p_top1 − p_top2); 1 = undecided (or no classifier yet)
    predicted: str | None
    score: float | None
    distance: float  # cosine distance to the nearest labelled or earlier-suggested image
    reason: str = ""
    kind: str = ""  # 'cover' (a region without labels) or 'uncertain'


def margin_uncertainty(proba: np.ndarray) -> np.ndarray:
    if proba.shape[1] < 2:
        return np.ones(len(proba))
    top2 = np.sort(proba, axis=1)[:, -2:]
    return np.asarray(1.0 - (top2[:, 1] - top2[:, 0]), np.float64)


def region_count(n_images: int) -> int:
    """How many regions to split ``n_images`` into for covering (2 to 40)."""
    return int(min(40, max(2, round(math.sqrt(n_images / 4)))))


def regions(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """A region index per row of ``X`` (k-means on a 32-d PCA of the unit vectors; deterministic)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    k = min(region_count(len(X)), len(X))
    if k < 2:
        return np.zeros(len(X), np.int64)
    dims = min(32, X.shape[1], len(X) - 1)
    Z = PCA(dims, random_state=seed).fit_transform(X) if dims >= 2 else X
    return np.asarray(KMeans(k, n_init=3, random_state=seed).fit_predict(Z), np.int64)


class _Picker:
    """Greedy state shared by both steps: chosen rows and each candidate's distance to labelled ∪ chosen."""

    def __init__(self, X: np.ndarray, cand: np.ndarray, labelled_rows: np.ndarray, duplicate: float) -> None:
        self.X, self.cand, self.duplicate = X, cand, duplicate
        if len(labelled_rows):
            self.dist = np.asarray(1.0 - (X[cand] @ X[labelled_rows].T).max(1), np.float64)
        else:
            self.dist = np.full(len(cand), 2.0)
        self.free = np.ones(len(cand), bool)
        self.chosen: list[tuple[int, float, str, str]] = []  # (candidate index, distance, reason, kind)

    def ok(self, j: int) -> bool:
        return bool(self.free[j] and self.dist[j] > self.duplicate)

    def take(self, j: int, reason: str, kind: str) -> None:
        self.chosen.append((j, float(self.dist[j]), reason, kind))
        self.free[j] = False
        self.dist = np.minimum(self.dist, 1.0 - self.X[self.cand] @ self.X[self.cand[j]])


def _duplicate_distance(X: np.ndarray, seed: int = 0) -> float:
    """A tenth of the median nearest-neighbour cosine distance (on a sample for large projects)."""
    rows = np.random.default_rng(seed).permutation(len(X))[:MAX_REFERENCE]
    if len(rows) < 3:
        return 0.0
    S = X[rows] @ X[rows].T
    np.fill_diagonal(S, -np.inf)
    return float(DUPLICATE_FRACTION * np.median(1.0 - S.max(1)))


def suggest(
    image_ids: np.ndarray,
    X: np.ndarray,
    labelled: Collection[int] | Mapping[int, str],
    n: int = 20,
    *,
    proba: np.ndarray | None = None,
    classes: list[str] | None = None,
    region_of: np.ndarray | None = None,
    seed: int = 0,
) -> list[Suggestion]:
    """Up to ``n`` unlabelled images to label next, in the order to label them (see the module docstring).

    ``X``: unit rows aligned with ``image_ids``; ``labelled``: the labelled image ids, or ``{id: class}`` (then
    classes without any label get covering priority); ``proba``/``classes``: the current classifier's scores
    for every row (``None`` before there is one); ``region_of``: precomputed :func:`regions` (else computed).
    """
    known = dict(labelled) if isinstance(labelled, Mapping) else dict.fromkeys(labelled, "")
    is_lab = np.isin(image_ids, np.fromiter(known, np.int64, len(known)))
    cand = np.flatnonzero(~is_lab)
    if len(cand) == 0 or n <= 0:
        return []
    picker = _Picker(X, cand, np.flatnonzero(is_lab), _duplicate_distance(X, seed))
    region_of = regions(X, seed) if region_of is None else region_of
    seen = {c for c in known.values() if c}
    unseen = bool(classes and seen and any(c not in seen for c in classes))
    cover_slots = n if proba is None else (n - 1 if unseen else math.ceil(n * COVER_SHARE))
    _cover(picker, region_of, is_lab, min(cover_slots, n), nothing_labelled=not is_lab.any())
    if proba is not None and classes is not None:
        _uncertain(picker, proba, classes, known, n - len(picker.chosen))
    if len(picker.chosen) < n:  # regions and uncertainty exhausted: spread out over what is left
        _spread(picker, n - len(picker.chosen))
    return [_suggestion(image_ids, cand, j, d, reason, kind, proba, classes) for j, d, reason, kind in picker.chosen]


def _cover(picker: _Picker, region_of: np.ndarray, is_lab: np.ndarray, slots: int, *, nothing_labelled: bool) -> None:
    cand, X = picker.cand, picker.X
    sizes = np.bincount(region_of, minlength=int(region_of.max()) + 1)
    covered = set(region_of[is_lab].tolist())
    order = [r for r in np.argsort(-sizes, kind="stable").tolist() if r not in covered and sizes[r] > 0]
    for r in order:
        if len(picker.chosen) >= slots:
            return
        members = np.flatnonzero(region_of[cand] == r)
        centre = X[cand[members]].mean(0)
        for j in members[np.argsort(-(X[cand[members]] @ centre), kind="stable")].tolist():
            if picker.ok(j):
                what = "no image is labelled yet" if nothing_labelled else "none of them is labelled yet"
                picker.take(j, f"typical of a group of {sizes[r]} similar images; {what}", "cover")
                break


def _uncertain(picker: _Picker, proba: np.ndarray, classes: list[str], known: Mapping[int, str], slots: int) -> None:
    cand = picker.cand
    unc = margin_uncertainty(proba[cand])
    pred = proba[cand].argmax(1)
    counts = {c: 0 for c in classes}
    for c in known.values():
        if c in counts:
            counts[c] += 1
    turn = sorted(range(len(classes)), key=lambda i: (counts[classes[i]], i))
    target = len(picker.chosen) + slots
    while len(picker.chosen) < target:
        progressed = False
        for ci in turn:
            if len(picker.chosen) >= target:
                break
            value = unc if WITHIN_CLASS == "uncertain" or (len(picker.chosen) % 2) else proba[cand, ci]
            gain = np.where((pred == ci) & picker.free & (picker.dist > picker.duplicate), value * picker.dist, -1.0)
            j = int(np.argmax(gain))
            if gain[j] < 0:
                continue
            top = np.argsort(-proba[cand[j]])[:2]
            picker.take(j, f"unsure: {classes[top[0]]} {proba[cand[j], top[0]]:.2f} vs "
                           f"{classes[top[1]]} {proba[cand[j], top[1]]:.2f}", "uncertain")  # fmt: skip
            progressed = True
        if not progressed:
            return


def _spread(picker: _Picker, slots: int) -> None:
    for _ in range(slots):
        gain = np.where(picker.free & (picker.dist > picker.duplicate), picker.dist, -1.0)
        j = int(np.argmax(gain))
        if gain[j] < 0:
            return
        picker.take(j, "unlike every labelled image", "cover")


def _suggestion(
    ids: np.ndarray, cand: np.ndarray, j: int, d: float, reason: str, kind: str, proba: np.ndarray | None,
    classes: list[str] | None,
) -> Suggestion:  # fmt: skip
    i = int(cand[j])
    if proba is None or classes is None:
        return Suggestion(int(ids[i]), 1.0, None, None, d, reason, kind)
    k = int(np.argmax(proba[i]))
    unc = float(margin_uncertainty(proba[i : i + 1])[0])
    return Suggestion(int(ids[i]), unc, classes[k], float(proba[i, k]), d, reason, kind)
