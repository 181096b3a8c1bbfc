"""Checking a candidate pair of near duplicates on the pixels: normalised cross-correlation of small greys.

Embeddings and perceptual hashes each miss a common kind of copy: on planted copies of the DoITPoMS
micrographs, a crop of 80 % moved the default model's vector as far as a *different* micrograph of the same
specimen, and it changes the hash completely. Comparing the pixels settles it: both thumbnails are reduced to
:data:`SIDE`² grey levels, zero-mean and unit-norm (so brightness and contrast changes do not matter), and
one is compared with centred and corner crops (:data:`CROP_FRACTIONS` of each side) of the other, both ways.
Copies scored ≥ 0.97 (brightened ones ≥ 0.81, where clipping is not linear); different micrographs, even of
the same specimen at another magnification, ≤ 0.86. Only candidate pairs from the neighbour graph are ever
compared.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from micview.core.store import Project

SIDE = 48
CROP_FRACTIONS = (0.9, 0.8, 0.7)
_ANCHORS = ((0.5, 0.5), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0))


def _unit(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float32).ravel()
    a -= a.mean()
    return a / max(float(np.linalg.norm(a)), 1e-6)


def grey_views(data: bytes) -> np.ndarray:
    """``(1 + 5·len(CROP_FRACTIONS), SIDE²)`` unit rows: the whole thumbnail first, then its crops."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.draft("L", (4 * SIDE, 4 * SIDE))
        grey = img.convert("L")
    w, h = grey.size
    views = [_unit(np.asarray(grey.resize((SIDE, SIDE), Image.Resampling.BOX)))]
    for f in CROP_FRACTIONS:
        cw, ch = w * f, h * f
        for ax, ay in _ANCHORS:
            x0, y0 = (w - cw) * ax, (h - ch) * ay
            box = (x0, y0, x0 + cw, y0 + ch)
            views.append(_unit(np.asarray(grey.resize((SIDE, SIDE), Image.Resampling.BOX, box=box))))
    return np.stack(views)


def match_score(a: np.ndarray, b: np.ndarray) -> float:
    """Best correlation between the whole of one image and the whole or a crop of the other (−1 … 1)."""
    return float(max((a @ b[0]).max(), (b @ a[0]).max()))


class ThumbnailPairs:
    """``pixels(a_rows, b_rows)`` for :func:`~micview.core.quality.duplicates.near_duplicates`: correlations
    of the thumbnails of ``image_ids[a]`` and ``image_ids[b]`` (NaN where a thumbnail is missing or broken).

    Views are cached per image (float16, at most ``cache`` images); at most ``limit`` pairs are checked, the
    ones given first (the caller passes the closest first) — the rest are NaN, and ``skipped`` counts them.
    """

    def __init__(self, project: Project, image_ids: np.ndarray, *, cache: int = 4096, limit: int = 50_000) -> None:
        self._project = project
        self._ids = np.asarray(image_ids, np.int64)
        self._cache: OrderedDict[int, np.ndarray | None] = OrderedDict()
        self._size = cache
        self._limit = limit
        self.checked = 0
        self.skipped = 0

    def _views(self, row: int) -> np.ndarray | None:
        if row in self._cache:
            self._cache.move_to_end(row)
            return self._cache[row]
        thumb = self._project.images.thumbnail(int(self._ids[row]))
        views: np.ndarray | None = None
        if thumb is not None:
            try:
                views = grey_views(thumb.data).astype(np.float16)
            except (OSError, ValueError, SyntaxError):
                views = None
        self._cache[row] = views
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return views

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.full(len(a), np.nan)
        for i, (ra, rb) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
            if self.checked >= self._limit:
                self.skipped += len(a) - i
                break
            va, vb = self._views(ra), self._views(rb)
            if va is not None and vb is not None:
                out[i] = match_score(va.astype(np.float32), vb.astype(np.float32))
            self.checked += 1
        return out
