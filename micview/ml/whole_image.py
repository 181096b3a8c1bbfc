"""Whole micrographs at their own size for convolutional features (the ``+native`` feature option).

Why: the square centre crop every model gets by default (:mod:`micview.ml.preprocess`) resizes a micrograph
and throws away its outer strips. A convolutional network has no fixed input size, and its texture statistics
(:func:`micview.ml.features.texture_forward`) are averages over positions, so the whole image can go in as it
is: on the DoITPoMS dev set (technique, grouped k-shot, 10 labels per class) this raised balanced accuracy by
0.02–0.07 over the 448-px crop (docs/classification.md).

Each image is read by :meth:`WholeImageEmbedder.load_pixels` (the per-model loader hook of
:func:`micview.ml.embedding.embed_project`): the viewer's own conversion
(:func:`micview.core.imaging.read_display`), longest side at most :data:`MAX_SIDE` (micrographs larger than
that are shrunk: the features were measured on images of at most 640 px, and a 4k image would cost 40 × a
224-px pass), shorter side at least :data:`MIN_SIDE`, and the burnt-in data bar at the bottom cut off
(:mod:`micview.ml.databar`). Images of different sizes cannot share a batch, so :meth:`encode_pixels` takes a
list and runs one forward pass per image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from micview.ml.embedder import Embedder, l2_normalise
from micview.ml.errors import NoTextTowerError
from micview.ml.registry import ModelSpec

MAX_SIDE = 640
MIN_SIDE = 64  # the network downsamples 32×; below ~2 cells per side the statistics are meaningless
MAX_ASPECT = 8  # longer strips are centre-cropped to 8 × their height first


@dataclass(frozen=True, slots=True)
class WholeImage:
    """The ``preprocess`` of a whole-image model: what its recipe records (and ``size`` for square callers)."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop_data_bar: bool = True

    def as_params(self) -> dict[str, Any]:
        return {"aspect": "whole image", "max_side": self.size, "min_side": MIN_SIDE, "mean": list(self.mean),
                "std": list(self.std), "data_bar": "cut off" if self.crop_data_bar else "kept"}  # fmt: skip


def fit_whole(pixels: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """(H, W[, C]) uint8 → (h, w, 3) uint8: strips cropped to 8:1, longest side ≤ ``max_side``, shorter ≥ 64."""
    from PIL import Image

    img = np.repeat(pixels[:, :, None], 3, axis=2) if pixels.ndim == 2 else pixels
    img = np.repeat(img[:, :, :1], 3, axis=2) if img.shape[2] < 3 else img[:, :, :3]
    h, w = img.shape[:2]
    if max(h, w) > MAX_ASPECT * min(h, w):  # keep the middle of a very long strip
        long = MAX_ASPECT * min(h, w)
        top, left = max(0, (h - long) // 2), max(0, (w - long) // 2)
        img = img[top : top + min(h, long), left : left + min(w, long)]
        h, w = img.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    scale = max(scale, MIN_SIDE / min(h, w))
    if scale != 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        img = np.asarray(Image.fromarray(np.ascontiguousarray(img)).resize(size, Image.Resampling.BICUBIC))
    return np.ascontiguousarray(img)


def load_whole(
    path: Path, width: int | None = None, height: int | None = None, *, max_side: int = MAX_SIDE,
    crop_data_bar: bool = True,
) -> np.ndarray:  # fmt: skip
    """One image file as (h, w, 3) uint8, ready for :meth:`WholeImageEmbedder.encode_pixels`.

    ``width``/``height`` (from the project) are not needed; they are accepted so this is the loader hook's
    signature. Raises :class:`~micview.core.errors.ImageReadError` for unreadable files.
    """
    from micview.core.imaging import read_display
    from micview.ml.databar import without_data_bar

    pixels = np.asarray(read_display(path, max_size=max_side))
    if crop_data_bar:
        pixels = without_data_bar(pixels)
    return fit_whole(pixels, max_side)


class WholeImageEmbedder:
    """A convolutional :class:`Embedder` fed whole images, one per forward pass (see the module docstring).

    ``tta``: the mean of the unit vectors of the four rotations by 90° (micrographs have no orientation).
    """

    def __init__(self, inner: Embedder, spec: ModelSpec, *, tta: bool = False, crop_data_bar: bool = True) -> None:
        self.inner = inner
        self.spec = spec
        self.tta = tta
        self.crop_data_bar = crop_data_bar
        pre = inner.preprocess
        self.preprocess = WholeImage(MAX_SIDE, pre.mean, pre.std, crop_data_bar)

    id = property(lambda self: self.spec.id)
    weights_hash = property(lambda self: self.inner.weights_hash)
    device = property(lambda self: self.inner.device)
    precision = property(lambda self: self.inner.precision)
    has_text = False

    def place(self, device: str, precision: str) -> WholeImageEmbedder:
        self.inner.place(device, precision)
        return self

    def load_pixels(self, path: Path, width: int | None = None, height: int | None = None) -> np.ndarray:
        """The loader hook :func:`~micview.ml.embedding.embed_project` calls instead of its square crop."""
        return load_whole(path, width, height, crop_data_bar=self.crop_data_bar)

    def encode_pixels(self, images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """A list of (h, w, 3) uint8 images of any sizes (or a (B, S, S, 3) batch) → (B, D) unit vectors."""
        out = []
        for img in images:
            views = [np.rot90(img, k) for k in range(4)] if self.tta else [img]
            vecs = [self.inner.encode_pixels(np.ascontiguousarray(v)[None])[0] for v in views]
            out.append(np.mean(vecs, axis=0))
        return l2_normalise(np.asarray(out, np.float32).reshape(len(out), -1))

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        raise NoTextTowerError(f"{self.id} describes image texture only; it cannot search by text.")
