"""Conversion of any image array to 8-bit pixels for the screen and for embedding models.

`to_display` is the one contract shared by the viewer, the thumbnails and the embedding preprocessing:
the same array always gives the same bytes, so a thumbnail, the viewer and what a model saw agree.

The rules, in order:

1. Shape: ``(H, W)`` stays gray; ``(H, W, 1)`` is squeezed; ``(H, W, 2)`` is gray + alpha; ``(H, W, 3)`` is
   RGB; ``(H, W, 4+)`` is RGB + alpha (channels after the fourth are ignored).
2. Values: ``bool`` becomes 0/255; ``uint8`` is kept as stored (it was made to be looked at); complex
   data becomes ``log1p(|z|)`` (complex micrographs are almost always FFTs or exit waves whose magnitude
   spans decades); every other dtype (``uint16``, signed, float) gets a percentile contrast stretch:
   ``low``/``high`` percentiles of the finite values map to 0/255, clipped. Colour channels share one
   stretch so the colour balance is kept. NaN/inf become 0.
3. Percentiles are computed on a regular grid subsample (every *s*-th row and column, at most about
   `PERCENTILE_SAMPLES` values) so the cost is bounded and the result deterministic.
4. If the percentiles coincide (e.g. a mostly black image with a few bright pixels) the full finite
   range is used instead; a constant image becomes mid-gray (128), with no division by zero.
5. Alpha is composited onto white, so transparent regions look like paper, not like black signal.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

PERCENTILE_SAMPLES = 1 << 20
CONSTANT_GRAY = 128


def to_display(arr: np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """Convert an image array to a uint8 ``(H, W)`` or ``(H, W, 3)`` array ready to show.

    Parameters
    ----------
    arr
        ``(H, W)`` or ``(H, W, C)`` array of any real, bool or complex dtype.
    low, high
        Percentiles (0–100) of the finite values that map to black and white for non-uint8 data.

    Returns
    -------
    numpy.ndarray
        C-contiguous uint8 array; see the module docstring for the exact rules.
    """
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3):
        raise ValueError(f"to_display expects (H, W) or (H, W, C), got shape {arr.shape}")
    color, alpha = _split_alpha(arr)
    out = _to_uint8(color, low, high)
    if alpha is not None:
        out = _composite_on_white(out, _alpha_fraction(alpha))
    return np.ascontiguousarray(out)


def _split_alpha(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if arr.ndim == 2:
        return arr, None
    channels = arr.shape[2]
    if channels == 2:
        return arr[:, :, 0], arr[:, :, 1]
    if channels == 3:
        return arr, None
    return arr[:, :, :3], arr[:, :, 3]


def _to_uint8(arr: np.ndarray, low: float, high: float) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * np.uint8(255)
    if np.iscomplexobj(arr):
        arr = np.log1p(np.abs(arr))
    return _stretch(arr, low, high)


def _stretch(arr: np.ndarray, low: float, high: float) -> np.ndarray:
    lo, hi = display_levels(arr, low, high)
    if lo is None or hi is None:
        return np.zeros(arr.shape, np.uint8)
    finite = np.isfinite(arr) if arr.dtype.kind == "f" else None
    if hi <= lo:
        out = np.full(arr.shape, CONSTANT_GRAY, np.uint8)
    else:
        scaled = (arr.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo))
        np.clip(scaled, 0.0, 255.0, out=scaled)
        np.nan_to_num(scaled, copy=False, nan=0.0)
        scaled += np.float32(0.5)
        out = scaled.astype(np.uint8)
    if finite is not None:
        out[~finite] = 0
    return out


def display_levels(arr: np.ndarray, low: float, high: float) -> tuple[float | None, float | None]:
    """Black and white levels from a deterministic subsample; ``(None, None)`` when nothing is finite."""
    sample = _subsample(arr).astype(np.float64, copy=False).ravel()
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return None, None
    lo, hi = (float(v) for v in np.percentile(sample, [low, high]))
    if hi <= lo:
        lo, hi = float(sample.min()), float(sample.max())
    return lo, hi


def _subsample(arr: np.ndarray) -> np.ndarray:
    pixels = arr.shape[0] * arr.shape[1]
    step = max(1, math.ceil(math.sqrt(pixels / PERCENTILE_SAMPLES)))
    return arr[::step, ::step]


def _alpha_fraction(alpha: np.ndarray) -> np.ndarray:
    if alpha.dtype.kind in "ui":
        return alpha.astype(np.float32) / np.float32(np.iinfo(alpha.dtype).max)
    if alpha.dtype == np.bool_:
        return alpha.astype(np.float32)
    return np.clip(np.nan_to_num(alpha.real.astype(np.float32)), 0.0, 1.0)


def _composite_on_white(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    if color.ndim == 3:
        alpha = alpha[:, :, None]
    blended: np.ndarray = color.astype(np.float32) * alpha + np.float32(255.0) * (np.float32(1.0) - alpha)
    blended += np.float32(0.5)
    return blended.astype(np.uint8)


def fit_size(width: int, height: int, max_size: int | None) -> tuple[int, int]:
    """Size with the longest side at most *max_size*, aspect kept, never enlarged, never zero."""
    if max_size is None or max(width, height) <= max_size:
        return width, height
    scale = max_size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_longest(img: np.ndarray, max_size: int | None) -> np.ndarray:
    """Shrink a uint8 display array so its longest side is at most *max_size*.

    Bicubic with a reducing gap (as ``Image.thumbnail``): antialiased, and about twice as fast as Lanczos,
    which matters when thousands of thumbnails are made at import.
    """
    height, width = img.shape[:2]
    size = fit_size(width, height, max_size)
    if size == (width, height):
        return img
    pil = Image.fromarray(img)
    out: np.ndarray = np.asarray(pil.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0))
    return out
