"""Near duplicates from a constructed graph: thresholds relative to the set, pixel checks only on candidate
edges, hash fall-back without thumbnails, groups and leaks; uniqueness, outliers and representativeness."""

from __future__ import annotations

import numpy as np
import pytest

from micview.core.quality.duplicates import LEAK_FOLDER, LEAK_LABEL, DuplicateRule, components, leaks, near_duplicates
from micview.core.quality.knn import Neighbours
from micview.core.quality.scores import StatFlags, outlier_score, representativeness, uniqueness


def graph(dist: list[list[float]], rows: list[list[int]]) -> Neighbours:
    return Neighbours(np.array(rows), 1 - np.array(dist, np.float32), "test")


# Six images, k = 2. The 2nd-neighbour distances are all 0.5 (typical distance 0.5). 0–1 are 0.01 apart
# (embedding alone: 0.01 <= 0.1 * 0.5); 2–3 are 0.2 apart (within 0.6 * 0.5: needs the pixels); 4–5 are 0.45
# apart (beyond the checked band).
DIST = [[0.01, 0.5], [0.01, 0.5], [0.2, 0.5], [0.2, 0.5], [0.45, 0.5], [0.45, 0.5]]
ROWS = [[1, 2], [0, 2], [3, 0], [2, 0], [5, 0], [4, 0]]


def test_embedding_alone_and_pixel_checks_in_the_band() -> None:
    asked: list[tuple[int, int]] = []

    def pixels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        asked.extend(zip(a.tolist(), b.tolist(), strict=True))
        return np.full(len(a), 0.95)

    d = near_duplicates(graph(DIST, ROWS), rule=DuplicateRule(), pixels=pixels)
    assert asked == [(2, 3)]  # each unordered pair once; 0-1 needed no check, 4-5 is too far apart
    assert d.group.tolist() == [0, 0, 1, 1, -1, -1]
    assert d.of.tolist() == [1, 0, 3, 2, -1, -1]
    assert d.distance.tolist() == pytest.approx([0.01, 0.01, 0.2, 0.2, 0.45, 0.45])
    assert d.threshold == pytest.approx(0.05, abs=1e-5) and d.checked_up_to == pytest.approx(0.3, abs=1e-5)


def test_pixels_that_disagree_or_cannot_tell() -> None:
    no = near_duplicates(graph(DIST, ROWS), pixels=lambda a, b: np.full(len(a), 0.5))
    assert no.group.tolist() == [0, 0, -1, -1, -1, -1]
    hashes = np.array([1, 2, 0b1011, 0b1000, 7, 7], np.uint64)  # 2 and 3 differ by 2 bits
    with_hash = near_duplicates(graph(DIST, ROWS), hashes, pixels=lambda a, b: np.full(len(a), 0.8))
    assert with_hash.group.tolist() == [0, 0, 1, 1, -1, -1] and with_hash.hash_distance[2] == 2
    unknown = near_duplicates(graph(DIST, ROWS), hashes, pixels=lambda a, b: np.full(len(a), np.nan))
    assert unknown.group.tolist() == [0, 0, 1, 1, -1, -1]  # hash rule: 2 bits, 0.2 <= 0.5 * 0.5
    ok = np.array([True, True, True, False, True, True])  # 3's hash unknown: no evidence but the embedding
    blind = near_duplicates(graph(DIST, ROWS), hashes, hash_ok=ok)
    assert blind.group.tolist() == [0, 0, -1, -1, -1, -1] and blind.hash_distance[2] == -1


def test_components_and_leaks() -> None:
    label = components(7, np.array([0, 2, 3, 5]), np.array([1, 3, 4, 6]))
    assert label.tolist() == [0, 0, 2, 2, 2, 5, 5]
    group = np.array([0, 0, 1, 1, 2, 2, -1])
    folders = ["train", "test", "train", "train", "a", "a", "b"]
    labels = [None, "x", "x", "y", "x", "x", "y"]
    assert leaks(group, folders, labels).tolist() == [LEAK_FOLDER] * 2 + [LEAK_LABEL] * 2 + [0, 0, 0]


def test_uniqueness_and_outliers_by_hand() -> None:
    g = graph([[0.0, 0.1, 0.2], [0.2, 0.4, 0.6], [0.1, 0.2, 0.3], [np.inf, np.inf, np.inf]],
              [[1, 2, 3], [0, 2, 3], [0, 1, 3], [-1, -1, -1]])  # fmt: skip
    u = uniqueness(g)
    # weighted 0.6/0.3/0.1: 0.05, 0.30, 0.15; row 3 has no neighbour: counted at the largest distance 0.6
    assert u.tolist() == pytest.approx([0.05 / 0.6, 0.30 / 0.6, 0.15 / 0.6, 1.0], abs=1e-6)
    o = outlier_score(g)
    # mean distances 0.1, 0.4, 0.2 (row 3: none); median 0.2
    assert o.tolist() == pytest.approx([0.5, 2.0, 1.0, 1.0], abs=1e-6)


def test_representativeness_and_flags() -> None:
    unit = np.array([[1, 0], [0.8, 0.6], [0, 1], [0.6, 0.8]], np.float32)
    r = representativeness(unit, np.array([0, 0, 1, -1]), np.array([[1, 0], [0, 1]], np.float32))
    assert r.tolist() == pytest.approx([1.0, 0.0, 1.0, 0.0])  # cosines 1, 0.8, 1 scaled; noise gets 0
    f = StatFlags().apply(np.array([1e-4, 0.05, 0.06, np.nan]), np.array([0.05, 0.5, 0.5, 0.5]),
                          np.array([0.0, 0.6, 0.0, 0.0]), np.array([5.0, 5.0, 1.0, 5.0]))  # fmt: skip
    assert f["is_blurry"].tolist() == [True, False, False, False]
    assert f["is_dark"].tolist() == [True, False, False, False]
    assert f["is_saturated"].tolist() == [False, True, False, False]
    assert f["is_low_information"].tolist() == [False, False, True, False]
