"""What to label next: uncertain images that are also unlike each other and unlike what is labelled.

Pure uncertainty sampling keeps picking near-duplicates from one ambiguous cluster; pure diversity ignores
the model. Here the ``pool`` × ``n`` least confident unlabelled images (margin between the two best classes,
as in CellProfiler Analyst's and ilastik's active learning) are candidates, and ``n`` of them are chosen
greedily, each maximising ``uncertainty × distance to the nearest labelled-or-chosen image`` (a weighted
farthest-point / core-set step; Sener & Savarese 2018). With no model yet, uncertainty is 1 for all and the
choice is a pure core-set: a spread-out first batch to label.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Suggestion:
    image_id: int
    uncertainty: float  # 1 − (p_top1 − p_top2); 1 = undecided
    predicted: str | None
    score: float | None
    distance: float  # cosine distance to the nearest labelled or earlier-suggested image


def margin_uncertainty(proba: np.ndarray) -> np.ndarray:
    if proba.shape[1] < 2:
        return np.ones(len(proba))
    top2 = np.sort(proba, axis=1)[:, -2:]
    return np.asarray(1.0 - (top2[:, 1] - top2[:, 0]), np.float64)


def suggest(
    image_ids: np.ndarray,
    X: np.ndarray,
    labelled: Collection[int],
    n: int = 20,
    *,
    proba: np.ndarray | None = None,
    classes: list[str] | None = None,
    pool: int = 5,
) -> list[Suggestion]:
    """Up to ``n`` unlabelled images to label next, best first (``X``: unit rows aligned with ``image_ids``)."""
    is_lab = np.isin(image_ids, np.fromiter(labelled, np.int64, len(labelled)))
    cand = np.flatnonzero(~is_lab)
    if len(cand) == 0 or n <= 0:
        return []
    unc = margin_uncertainty(proba) if proba is not None else np.ones(len(image_ids))
    cand = cand[np.argsort(-unc[cand], kind="stable")[: max(n * pool, n)]]
    dist = _initial_distance(X, cand, np.flatnonzero(is_lab))
    chosen: list[int] = []
    for _ in range(min(n, len(cand))):
        gain = unc[cand] * dist
        gain[chosen] = -1.0
        j = int(np.argmax(gain))
        chosen.append(j)
        dist_j = dist[j]
        dist = np.minimum(dist, 1.0 - X[cand] @ X[cand[j]])
        dist[j] = dist_j  # keep the distance it was chosen with, for display
    return [_suggestion(image_ids, cand[j], unc, dist[j], proba, classes) for j in chosen]


def _initial_distance(X: np.ndarray, cand: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Cosine distance of each candidate to its nearest labelled image (2 when nothing is labelled)."""
    if len(lab) == 0:
        centre = X[cand].mean(0)
        return np.asarray(
            1.0 + 1e-3 * (X[cand] @ centre), np.float64
        )  # start from the most typical image, then spread out
    return np.asarray(1.0 - (X[cand] @ X[lab].T).max(1), dtype=np.float64)


def _suggestion(
    ids: np.ndarray, i: int, unc: np.ndarray, d: float, proba: np.ndarray | None, classes: list[str] | None
) -> Suggestion:
    if proba is None or classes is None:
        return Suggestion(int(ids[i]), float(unc[i]), None, None, float(d))
    k = int(np.argmax(proba[i]))
    return Suggestion(int(ids[i]), float(unc[i]), classes[k], float(proba[i, k]), float(d))
