"""Combining zero-shot (prompt) and few-shot (label) scores: a weighted sum of log-probabilities.

Why a product of experts rather than picking one: with a handful of labels the prompts carry most of the
knowledge, with hundreds the labels do. The weight ``w`` of the few-shot term is chosen on the out-of-fold
predictions of the labelled images (the value with the best balanced accuracy, ties to the larger ``w``);
with too few labels for folds it is ``n / (n + 10)`` for ``n`` labels, so the prompts act as a prior
that the labels overrule as they accumulate.
"""

from __future__ import annotations

import numpy as np

from micview.ml.classify.fewshot import log_softmax

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
PRIOR_LABELS = 10


def combine(few_shot_lp: np.ndarray, zero_shot_lp: np.ndarray, weight: float) -> np.ndarray:
    """Renormalised ``weight · few + (1 − weight) · zero`` of two ``(n, c)`` log-probability arrays."""
    return log_softmax(weight * few_shot_lp + (1.0 - weight) * zero_shot_lp)


def choose_weight(oof_few_shot_lp: np.ndarray | None, zero_shot_lp: np.ndarray, y: np.ndarray) -> float:
    """The few-shot weight (see the module docstring); ``y`` are class indices of the labelled rows."""
    if oof_few_shot_lp is None:
        return len(y) / (len(y) + PRIOR_LABELS)

    def score(w: float) -> float:
        pred = combine(oof_few_shot_lp, zero_shot_lp, w).argmax(1)
        return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))

    return max(WEIGHTS, key=lambda w: (score(w), w))
