"""MRC / MRCS / CCP4 ``.map`` files (cryo-EM images, movie stacks, tomograms, density maps) through mrcfile.

Why mrcfile: it is the CCP-EM reference implementation of the MRC2014 standard (BSD-3-Clause, numpy only),
validates headers, and parses the FEI1/FEI2 extended headers that Thermo Fisher software writes.

The file is memory-mapped: opening it reads the 1024-byte header (and the extended header, if any) only,
and a frame is read from disk when it is indexed, so probing a 10 GB movie stack or taking its thumbnail
never reads the other frames. Every Z section of a stack or a volume (and every section of every volume of a
volume stack) is one frame. The voxel size (Å in the header) gives ``pixel_size_nm``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.imaging._common import check_frame, check_pixels, describe, fail, mode_for
from micview.core.imaging._mrc_meta import mrc_metadata
from micview.core.imaging.display import resize_longest, to_display
from micview.core.imaging.types import ImageInfo, ImageSummary

_FORMATS = {".mrcs": "MRCS", ".map": "MAP"}


@contextmanager
def _open(path: Path) -> Iterator[Any]:
    import mrcfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # permissive: header oddities are reported below, not warned
            mrc = mrcfile.mmap(path, mode="r", permissive=True)
    except (ValueError, OSError, EOFError) as exc:
        fail(path, f"cannot be read as an MRC file (mrcfile: {describe(exc)})")
    with mrc:
        if mrc.data is None:
            fail(path, "the MRC header is invalid or the file is shorter than its header says")
        yield mrc


def _shape(mrc: Any, path: Path) -> tuple[int, int, int]:
    """(frames, height, width) of the data block."""
    shape = tuple(int(n) for n in mrc.data.shape)
    if len(shape) < 2:
        fail(path, f"the MRC data block has shape {shape}, not a picture")
    height, width = shape[-2], shape[-1]
    check_pixels(path, width, height)
    return int(np.prod(shape[:-2], dtype=np.int64)), height, width


def _info(mrc: Any, path: Path) -> ImageInfo:
    frames, height, width = _shape(mrc, path)
    dtype = np.dtype(mrc.data.dtype).newbyteorder("=")
    instrument, raw = mrc_metadata(mrc)
    return ImageInfo(
        format=_FORMATS.get(path.suffix.lower(), "MRC"),
        width=width,
        height=height,
        frames=frames,
        dtype=str(dtype),
        bit_depth=dtype.itemsize * 8,
        mode=mode_for(dtype, 1),
        instrument=instrument,
        raw_metadata=raw,
    )


def _frame(mrc: Any, path: Path, frame: int) -> np.ndarray:
    frames, height, width = _shape(mrc, path)
    check_frame(path, frame, frames)
    data = mrc.data.reshape(frames, height, width) if mrc.data.ndim != 2 else mrc.data[np.newaxis]
    try:
        arr = np.array(data[frame])  # copies this frame only out of the memory map
    except (OSError, ValueError) as exc:
        fail(path, f"the pixel data cannot be read (mrcfile: {describe(exc)})")
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def probe(path: Path) -> ImageInfo:
    with _open(path) as mrc:
        return _info(mrc, path)


def read_frame(path: Path, frame: int = 0) -> np.ndarray:
    with _open(path) as mrc:
        return _frame(mrc, path, frame)


def read_display(path: Path, frame: int = 0, max_size: int | None = None) -> np.ndarray:
    return resize_longest(to_display(read_frame(path, frame)), max_size)


def read_summary(path: Path, thumb_size: int = 256) -> ImageSummary:
    with _open(path) as mrc:
        info = _info(mrc, path)
        thumb = resize_longest(to_display(_frame(mrc, path, 0)), thumb_size)
        return ImageSummary(info=info, thumbnail=thumb)
