"""Likely label mistakes by confident learning (Northcutt, Jiang & Chuang, JAIR 70, 2021).

Why not the ``cleanlab`` package, which implements it: cleanlab is AGPL-3.0, and micview is a BSD-licensed
desktop application that is redistributed as a frozen app; linking an AGPL library would put the whole app
under the AGPL. The method itself is short and is written out here from the paper:

1. For each class ``j``, the threshold ``t_j`` is the mean predicted probability of ``j`` over the images
   *labelled* ``j`` (the model's average self-confidence for that class).
2. The **confident joint** ``C[i, j]`` counts the images labelled ``i`` whose probability of ``j`` reaches
   ``t_j`` (when several classes do, the most probable of them).
3. ``C`` is calibrated so each row sums to the number of images labelled ``i``, and divided by ``n``: ``Q`` is
   the estimated joint distribution of (given label, true label).
4. **Prune by noise rate** (the paper's and cleanlab's default): for every off-diagonal cell, the
   ``round(n · Q[i, j])`` images labelled ``i`` with the largest margin ``p_j − p_i`` are flagged.

The probabilities must be *out-of-fold* (each image scored by a model that did not see its label), or the
model simply repeats the labels. The score reported per image is ``1 − p(given label)`` (the paper's
"self-confidence" ranking; higher = more suspect), the suggestion the most probable class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class LabelIssues:
    """Per labelled image: flagged or not, score (higher = more suspect) and the suggested class index."""

    is_issue: np.ndarray
    score: np.ndarray
    suggested: np.ndarray
    confident_joint: np.ndarray
    thresholds: np.ndarray


def _check(labels: np.ndarray, proba: np.ndarray) -> None:
    if proba.ndim != 2 or len(labels) != len(proba):
        raise ValueError(f"{len(labels)} labels for probabilities of shape {proba.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= proba.shape[1]):
        raise ValueError("labels must be class indices into the probability columns")


def class_thresholds(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``t_j``: mean probability of ``j`` over the images labelled ``j`` (inf for a class nobody has)."""
    out = np.full(proba.shape[1], np.inf)
    for j in np.unique(labels):
        out[j] = proba[labels == j, j].mean()
    return out


def confident_joint(labels: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The confident joint ``C`` (given label × likely true label, counts) and the thresholds used."""
    _check(labels, proba)
    t = class_thresholds(labels, proba)
    above = proba >= t[None, :]
    masked = np.where(above, proba, -np.inf)
    true = masked.argmax(1)
    confident = above.any(1)
    c = np.zeros((proba.shape[1], proba.shape[1]), np.int64)
    np.add.at(c, (labels[confident], true[confident]), 1)
    return c, t


def calibrated_joint(c: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``Q``: rows of ``C`` rescaled to the label counts, the whole divided by ``n``."""
    counts = np.bincount(labels, minlength=len(c)).astype(np.float64)
    row = c.sum(1, keepdims=True).astype(np.float64)
    scaled = np.where(row > 0, c / np.maximum(row, 1) * counts[:, None], 0.0)
    total = scaled.sum()
    return scaled / total if total > 0 else scaled


def prune_by_noise_rate(labels: np.ndarray, proba: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Flag, for each off-diagonal (i, j), the ``round(n·Q[i,j])`` images labelled i with largest ``p_j − p_i``."""
    n = len(labels)
    flagged = np.zeros(n, np.bool_)
    for i, j in zip(*np.nonzero(q), strict=True):
        count = round(n * q[i, j])
        if i == j or count == 0:
            continue
        rows = np.flatnonzero(labels == i)
        margin = proba[rows, j] - proba[rows, i]
        flagged[rows[np.argsort(-margin, kind="stable")[:count]]] = True
    return flagged


def find_label_issues(labels: np.ndarray, proba: np.ndarray) -> LabelIssues:
    """Confident learning on out-of-fold ``proba`` (``(n, C)``, rows summing to 1) for class-index ``labels``.

    An image is flagged only where the model also prefers another class (``argmax ≠ label``), as cleanlab
    does by default, so a flagged image always comes with a different suggestion.
    """
    labels = np.asarray(labels, np.int64)
    proba = np.asarray(proba, np.float64)
    c, t = confident_joint(labels, proba)
    flagged = prune_by_noise_rate(labels, proba, calibrated_joint(c, labels))
    suggested = proba.argmax(1) if len(proba) else np.zeros(0, np.int64)
    flagged &= suggested != labels
    score = 1.0 - proba[np.arange(len(labels)), labels] if len(labels) else np.zeros(0)
    return LabelIssues(flagged, score.astype(np.float32), suggested.astype(np.int64), c, t)
