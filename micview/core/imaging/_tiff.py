"""TIFF through tifffile (never Pillow).

Pillow reads only a subset of scientific TIFFs (no float64, no multi-sample 16-bit, no planar RGB,
no big-endian multi-page stacks, no BigTIFF, no pyramids); tifffile reads them all, parses the
instrument tags (FEI, Zeiss, ImageJ, TVIPS, OME …) and, with imagecodecs, every compression.

A "frame" is one page of the first series: a 2-D picture with its samples (a slice of a z-stack, a
time point, one page of a multi-page TIFF). Other series (e.g. the 16-bit raw page that Olympus SIS
stores after its RGB picture) are not frames; their tags are still read for metadata.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from micview.core.imaging._common import check_frame, check_pixels, describe, fail, mode_for
from micview.core.imaging._tiff_meta import tiff_metadata
from micview.core.imaging.display import resize_longest, to_display
from micview.core.imaging.types import ImageInfo, ImageSummary

_DECODE_ERRORS = (ValueError, OSError, RuntimeError, IndexError, EOFError, MemoryError)
_HEADER_ERRORS = (*_DECODE_ERRORS, KeyError, TypeError)


@contextmanager
def _open(path: Path) -> Iterator[tifffile.TiffFile]:
    try:
        tif = tifffile.TiffFile(path)
    except tifffile.TiffFileError as exc:
        fail(path, f"not a valid TIFF file (tifffile: {describe(exc)})")
    except _HEADER_ERRORS as exc:
        fail(path, f"the TIFF header is corrupt or truncated (tifffile: {describe(exc)})")
    with tif:
        try:
            yield tif
        except (tifffile.TiffFileError, *_DECODE_ERRORS) as exc:
            fail(path, f"the TIFF file is corrupt (tifffile: {describe(exc)})")


def _series(tif: tifffile.TiffFile, path: Path) -> Any:
    if not tif.series or tif.series[0].keyframe is None:
        fail(path, "the TIFF file holds no image")
    return tif.series[0]


def _info(tif: tifffile.TiffFile, path: Path) -> ImageInfo:
    series = _series(tif, path)
    page = series.keyframe
    width, height = int(page.imagewidth), int(page.imagelength)
    check_pixels(path, width, height)
    if int(page.imagedepth) > 1:
        fail(path, "holds volumetric TIFF tiles (ImageDepth > 1), which micview does not read")
    palette = page.photometric == tifffile.PHOTOMETRIC.PALETTE and page.colormap is not None
    channels = int(page.samplesperpixel)
    instrument, raw = tiff_metadata(tif, width)
    return ImageInfo(
        format="TIFF",
        width=width,
        height=height,
        frames=len(series.pages),
        channels=channels,
        dtype=str(np.dtype(series.dtype).newbyteorder("=")),
        bit_depth=int(page.bitspersample),
        mode="P" if palette else mode_for(np.dtype(series.dtype), channels),
        instrument=instrument,
        raw_metadata=raw,
    )


def _check_complete(page: Any, path: Path) -> None:
    """A short file would otherwise decode as a silently zero-padded picture."""
    size = os.path.getsize(path)
    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=False) if n]
    if not ends:
        fail(path, "the TIFF page has no pixel data")
    if max(ends) > size:
        fail(path, f"the TIFF file is truncated (pixel data needs {max(ends):,} bytes, file has {size:,})")


def _page_array(page: Any, path: Path) -> np.ndarray:
    _check_complete(page, path)
    arr: np.ndarray = page.asarray()
    key = page.keyframe
    axes = key.axes
    if axes.startswith("S") and arr.ndim == 3:  # planar RGB -> interleaved
        arr = np.moveaxis(arr, 0, -1)
    arr = np.squeeze(arr, axis=tuple(i for i in range(arr.ndim - 2) if arr.shape[i] == 1))
    if arr.ndim not in (2, 3):
        fail(path, f"a TIFF page with axes {axes} and shape {arr.shape} is not a 2-D picture")
    if key.photometric == tifffile.PHOTOMETRIC.PALETTE and key.colormap is not None:
        return _apply_colormap(arr, key.colormap)
    if key.photometric == tifffile.PHOTOMETRIC.MINISWHITE and arr.dtype.kind == "u":
        inverted: np.ndarray = np.iinfo(arr.dtype).max - arr
        return inverted
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _apply_colormap(indices: np.ndarray, colormap: np.ndarray) -> np.ndarray:
    """Palette -> uint8 gray (if every entry is gray) or RGB, as a viewer would show it."""
    cmap = np.asarray(colormap)
    cmap = (cmap >> 8).astype(np.uint8) if cmap.max() > 255 else cmap.astype(np.uint8)
    idx = np.clip(indices, 0, cmap.shape[1] - 1)
    out: np.ndarray = cmap[0][idx] if (cmap == cmap[:1]).all() else cmap.T[idx]
    return np.ascontiguousarray(out)


def _frame(tif: tifffile.TiffFile, path: Path, frame: int, max_size: int | None = None) -> np.ndarray:
    series = _series(tif, path)
    check_frame(path, frame, len(series.pages))
    level = _pick_level(series, max_size)
    page = level.pages[frame]
    if page is None:
        fail(path, f"frame {frame} is missing from the TIFF file")
    key = page.keyframe  # a TiffFrame shares its description with a key page
    check_pixels(path, int(key.imagewidth), int(key.imagelength))
    return _page_array(page, path)


def _pick_level(series: Any, max_size: int | None) -> Any:
    """The smallest pyramid level still at least *max_size* on its longest side (level 0 if none)."""
    if max_size is None or len(series.levels) < 2:
        return series
    for level in reversed(series.levels):
        key = level.keyframe
        if key is not None and max(int(key.imagewidth), int(key.imagelength)) >= max_size:
            return level
    return series


def probe(path: Path) -> ImageInfo:
    with _open(path) as tif:
        return _info(tif, path)


def read_frame(path: Path, frame: int = 0) -> np.ndarray:
    with _open(path) as tif:
        return _frame(tif, path, frame)


def read_display(path: Path, frame: int = 0, max_size: int | None = None) -> np.ndarray:
    with _open(path) as tif:
        return resize_longest(to_display(_frame(tif, path, frame, max_size)), max_size)


def read_summary(path: Path, thumb_size: int = 256) -> ImageSummary:
    with _open(path) as tif:
        info = _info(tif, path)
        thumb = resize_longest(to_display(_frame(tif, path, 0, thumb_size)), thumb_size)
        return ImageSummary(info=info, thumbnail=thumb)
