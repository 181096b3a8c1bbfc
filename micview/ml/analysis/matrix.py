"""Image-to-image similarity matrices for display, ordered by label or cluster, never N × N for large sets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from micview.ml.analysis.stats import stratified_sample

MATRIX_MAX = 1_500  # rows shown; above, a stratified sample (the figure says so)


@dataclass(frozen=True)
class SimilarityMatrix:
    """Cosine similarities of ``image_ids`` (in display order), grouped by ``groups`` (one name per row)."""

    image_ids: np.ndarray
    groups: list[str]
    values: np.ndarray
    total: int
    ordered_by: str

    @property
    def sampled(self) -> bool:
        return len(self.image_ids) < self.total

    def caption(self) -> str:
        shown = (
            f"a stratified sample of {len(self.image_ids)} of {self.total} images"
            if self.sampled
            else (f"all {self.total} images")
        )
        return f"{shown}, ordered by {self.ordered_by}"

    def boundaries(self) -> list[tuple[str, int, int]]:
        """(group, first row, last row + 1) of each run of equal groups, for labelling the axes."""
        out: list[tuple[str, int, int]] = []
        for i, g in enumerate(self.groups):
            if out and out[-1][0] == g:
                out[-1] = (g, out[-1][1], i + 1)
            else:
                out.append((g, i, i + 1))
        return out


def similarity_matrix(
    image_ids: np.ndarray, unit: np.ndarray, groups: list[str], ordered_by: str, *, size: int = MATRIX_MAX
) -> SimilarityMatrix:
    """The ordered (and, above ``size`` rows, sampled) matrix of unit vectors ``unit``."""
    keys = np.asarray(groups, dtype=object)
    rows = stratified_sample(keys.astype(str), size)
    rows = rows[np.lexsort((image_ids[rows], keys[rows].astype(str)))]
    sub = unit[rows].astype(np.float32)
    return SimilarityMatrix(image_ids[rows], [str(g) for g in keys[rows]], sub @ sub.T, len(image_ids), ordered_by)
