"""Cheap per-image statistics from the stored thumbnails: blur, brightness, clipping, information, hash.

Why thumbnails: they are already in the project (no file is opened, a vanished folder does not matter) and
JPEG thumbnails decode at half size through libjpeg's DCT scaling (``draft``) in well under a millisecond.
All statistics are on the grey level at :data:`STATS_SIDE` px at most:

* ``blur`` — variance of the 4-neighbour Laplacian of the grey image scaled to [0, 1] (Pech-Pacheco et al.
  2000): low when there are no sharp edges. Its scale depends on the content (a smooth polished section has
  few edges even in focus), so images are flagged *relative to the set* (see :mod:`micview.core.quality.flags`);
* ``brightness`` — mean grey level in [0, 1];
* ``saturation`` — fraction of pixels at or above 250 of 255 (clipped highlights, a saturated detector);
* ``entropy`` — Shannon entropy of the 256-bin grey histogram in bits (0 for a flat image, 8 at most);
* ``phash`` — a 64-bit DCT perceptual hash (the low 8×8 frequencies of a 32×32 grey copy against their
  median). Resizing, re-compression and brightness changes move it by a few bits; crops move it a lot.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

STATS_SIDE = 128
HASH_SIDE = 32
SATURATED_LEVEL = 250
ALGORITHM_VERSION = 1


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    m = np.cos(np.pi * (2 * np.arange(n)[None, :] + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    out: np.ndarray = m.astype(np.float64)
    return out


_DCT = _dct_matrix(HASH_SIDE)


@dataclass(frozen=True, slots=True)
class PixelStats:
    blur: float
    brightness: float
    saturation: float
    entropy: float
    phash: int


def grey_stats(grey: np.ndarray) -> tuple[float, float, float, float]:
    """(blur, brightness, saturation, entropy) of a 2-D uint8 grey image (see the module docstring)."""
    g = grey.astype(np.float32) / 255.0
    if min(g.shape) >= 3:
        lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4.0 * g[1:-1, 1:-1]
        blur = float(lap.var())
    else:
        blur = 0.0
    hist = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    p = hist[hist > 0] / hist.sum()
    entropy = float(-(p * np.log2(p)).sum()) + 0.0
    return blur, float(g.mean()), float((grey >= SATURATED_LEVEL).mean()), entropy


def phash(grey32: np.ndarray) -> int:
    """64-bit DCT hash of a ``HASH_SIDE``-square grey image (bit ``i`` set where coefficient ``i`` > median)."""
    coeffs = (_DCT @ grey32.astype(np.float64) @ _DCT.T)[:8, :8].ravel()
    bits = coeffs > np.median(coeffs[1:])
    return int(np.packbits(bits).view(">u8")[0])


def image_stats(data: bytes) -> PixelStats:
    """Statistics of one encoded thumbnail (JPEG or PNG bytes); raises ``OSError``/``ValueError`` if unreadable."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.draft("L", (STATS_SIDE, STATS_SIDE))  # JPEG: decode at a reduced scale, already grey
        grey_img = img.convert("L")
    if max(grey_img.size) > STATS_SIDE:
        grey_img.thumbnail((STATS_SIDE, STATS_SIDE), Image.Resampling.BOX)
    small = np.asarray(grey_img.resize((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX))
    blur, brightness, saturation, entropy = grey_stats(np.asarray(grey_img))
    return PixelStats(blur, brightness, saturation, entropy, phash(small))


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit differences between two arrays of 64-bit hashes (element-wise)."""
    x = np.bitwise_xor(np.asarray(a, np.uint64), np.asarray(b, np.uint64))
    return np.bitwise_count(x).astype(np.int16)
