"""Image files → model-sized uint8 squares, in worker threads.

Aspect: **centre crop**. The shorter side is resized to the model's input size and the middle square kept.
Why not pad: CLIP, SigLIP and ImageNet models were trained on centre crops, so crops keep the vectors
in-distribution; padding wastes input resolution on flat borders that the model reads as content, and two
images of different shapes would then differ by their borders. What a crop loses are the outer strips of
elongated images, which in micrographs mostly hold the scale bar and the instrument's data bar — text
that would otherwise pull images together by their annotation rather than their structure. (SigLIP was
trained on squashed rather than cropped images; for the near-square images most detectors give this is
the same, and one rule for all models keeps results comparable.)

Pixels: :func:`micview.core.imaging.read_display`, the viewer's own conversion, so 16-bit and float data
are percentile-stretched exactly as the user sees them, and large JPEGs are decoded at reduced size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def decode_size(width: int | None, height: int | None, size: int) -> int | None:
    """The ``max_size`` (longest side) at which the shorter side is still ≥ ``size``; ``None`` = full size."""
    if not width or not height:
        return None
    return math.ceil(size * max(width, height) / min(width, height))


def square(img: np.ndarray, size: int) -> np.ndarray:
    """Resize the shorter side to ``size`` (bicubic, antialiased) and keep the centre ``size × size``, RGB."""
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    h, w = img.shape[:2]
    scale = size / min(h, w)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    pil = Image.fromarray(img[:, :, :3])
    if (nw, nh) != (w, h):
        pil = pil.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=3.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(pil.crop((left, top, left + size, top + size)))


def load_square(path: Path, size: int, width: int | None = None, height: int | None = None) -> np.ndarray:
    """Read one image file as a ``(size, size, 3)`` uint8 centre crop (see module docstring).

    ``width``/``height`` (from the project) save a header read; without them the file is probed, so a
    file gives the same pixels either way (JPEGs are decoded at a reduced scale in both cases).
    Raises :class:`~micview.core.errors.ImageReadError` for unreadable files.
    """
    from micview.core.imaging import probe, read_display

    if not width or not height:  # same decode path with or without the project's record: same vector
        info = probe(path)
        width, height = info.width, info.height
    return square(read_display(path, max_size=decode_size(width, height, size)), size)


def load_model_input(model: Any, path: Path, width: int | None = None, height: int | None = None) -> np.ndarray:
    """One file as ``model`` takes it: the square crop, or the model's own loader where it has one.

    A model with a ``load_pixels(path, width, height)`` method (whole images at their own size,
    :mod:`micview.ml.whole_image`) reads its images itself; every path that embeds a file (a project, a watched
    folder, "more like this" for an outside file) goes through here so one file always gives one vector.
    """
    own = getattr(model, "load_pixels", None)
    if own is not None:
        return np.asarray(own(path, width, height))
    return load_square(path, model.preprocess.size, width, height)


def batch_inputs(model: Any, images: Sequence[np.ndarray]) -> Any:
    """What ``model.encode_pixels`` takes for several loaded images: a stacked batch, or a list where sizes differ."""
    return list(images) if getattr(model, "load_pixels", None) is not None else np.stack(images)
