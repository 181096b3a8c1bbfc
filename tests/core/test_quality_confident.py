"""Confident learning on constructed probabilities whose thresholds, joint and pruning are worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from micview.core.quality.confident import (
    calibrated_joint,
    class_thresholds,
    confident_joint,
    find_label_issues,
)


def case() -> tuple[np.ndarray, np.ndarray]:
    """Six images labelled 0 and four labelled 1; images 4 and 5 (labelled 0) look like class 1."""
    p1 = np.array([0.1, 0.1, 0.2, 0.2, 0.9, 0.8, 0.9, 0.9, 0.7, 0.5])
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    return labels, np.column_stack([1 - p1, p1])


def test_thresholds_and_confident_joint_by_hand() -> None:
    labels, proba = case()
    t = class_thresholds(labels, proba)
    # t0 = mean p0 over label 0 = (0.9+0.9+0.8+0.8+0.1+0.2)/6 = 0.6167; t1 = (0.9+0.9+0.7+0.5)/4 = 0.75
    assert t.tolist() == pytest.approx([3.7 / 6, 0.75])
    c, _ = confident_joint(labels, proba)
    # label 0: p0 >= t0 for the first four; p1 >= t1 for 4 and 5 -> C[0] = [4, 2]
    # label 1: p1 >= 0.75 for 6, 7 -> C[1][1] = 2; image 8 (p1 0.7, p0 0.3) and 9 (0.5, 0.5) reach neither
    assert c.tolist() == [[4, 2], [0, 2]]
    q = calibrated_joint(c, labels)
    # rows rescaled to the label counts (6 and 4): [[4, 2], [0, 4]] / 10
    assert q.ravel().tolist() == pytest.approx([0.4, 0.2, 0.0, 0.4])


def test_prune_by_noise_rate_flags_the_two_planted_mistakes() -> None:
    labels, proba = case()
    found = find_label_issues(labels, proba)
    assert np.flatnonzero(found.is_issue).tolist() == [4, 5]  # n * Q[0, 1] = 2 images, largest p1 - p0
    assert found.suggested[[4, 5]].tolist() == [1, 1]
    assert found.score.tolist() == pytest.approx([0.1, 0.1, 0.2, 0.2, 0.9, 0.8, 0.1, 0.1, 0.3, 0.5])


def test_an_uncertain_image_the_model_still_agrees_with_is_not_flagged() -> None:
    labels = np.array([0, 0, 0, 1, 1, 1])
    p1 = np.array([0.1, 0.1, 0.45, 0.9, 0.9, 0.9])
    found = find_label_issues(labels, np.column_stack([1 - p1, p1]))
    assert not found.is_issue.any() and found.score[2] == pytest.approx(0.45)


def test_classes_nobody_has_and_bad_shapes() -> None:
    """Class 1 has no labels (threshold inf, never a confident true label)."""
    labels = np.array([0, 0, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1]])
    found = find_label_issues(labels, proba)
    # t = [0.75, inf, 0.45]: image 3 (label 2) reaches t0 -> C[2, 0] = 1 -> n * Q[2, 0] = 1 image flagged
    assert np.isinf(found.thresholds[1]) and found.confident_joint[:, 1].sum() == 0
    assert found.is_issue.tolist() == [False, False, False, True] and found.suggested[3] == 0
    with pytest.raises(ValueError, match="labels"):
        find_label_issues(np.array([0, 3]), proba[:2])
