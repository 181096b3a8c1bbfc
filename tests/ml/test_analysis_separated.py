"""The image side of classes that never mix (no neighbour crosses a label): nothing is confusable, no error."""

from __future__ import annotations

import numpy as np

from micview.ml.analysis import image_side


def test_classes_that_never_mix_have_no_confusable_pairs() -> None:
    rng = np.random.default_rng(3)
    centres = np.eye(8, dtype=np.float32)[:3] * 10
    X = np.concatenate([c + rng.normal(0, 0.01, (6, 8)).astype(np.float32) for c in centres])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labels: list[str | None] = [name for name in ("a", "b", "c") for _ in range(6)]
    side = image_side(np.arange(100, 118), X, labels)
    assert side is not None and side.confusable == []
    assert np.allclose(side.neighbour_share, np.eye(3))  # 5 neighbours of each image: all of its own class
    assert side.label_silhouette is not None and side.label_silhouette > 0.9
