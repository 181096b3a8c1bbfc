"""Reading microscopy images: one API over Pillow, tifffile and rosettasciio.

==========  ===================================================================
Backend     Formats
==========  ===================================================================
Pillow      JPEG, PNG, BMP, GIF (content sniffed: a GIF named ``.jpg`` loads)
tifffile    every TIFF (FEI/Thermo, Zeiss, ImageJ, OME, TVIPS, Olympus SIS …)
rsciio      Gatan DM3/DM4, EMD (Velox, Berkeley), FEI TIA SER (+ its ``.emi``), Bruker BCF
mrcfile     MRC / MRCS / CCP4 ``.map`` (cryo-EM images, stacks, volumes)
others      Leica LIF (``liffile``); Nikon ND2 (``nd2``) and Zeiss CZI (``pylibCZIrw``) as extras: `_optional`
zarr        OME-Zarr folders (``name.ome.zarr``, NGFF 0.4 on Zarr v2 and 0.5 on v3): `_zarr`, `_ngff`
==========  ===================================================================

Every failure a user can cause (unknown format, truncated or corrupt file, a spectrum instead of a
picture, a header bigger than `MAX_PIXELS`) is an `ImageReadError` whose message starts with the file
name. Headless: numpy, Pillow, tifffile; rosettasciio (and h5py through it), mrcfile and the optional readers are
imported lazily. Listing a folder never decodes more than one frame per file: `probe` reads headers and
`read_summary` decodes frame 0 only (memory-mapped MRC, one TIFF page, one lazy rosettasciio chunk, the smallest
sufficient OME-Zarr level).

Functions take ``str`` or ``Path``; arrays are ``(H, W)`` or ``(H, W, C)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from micview.core.imaging import _mrc, _optional, _pillow, _rsciio, _tiff
from micview.core.imaging._common import MAX_PIXELS, SUPPORTED_EXTENSIONS, detect_backend
from micview.core.imaging.display import to_display
from micview.core.imaging.types import ImageInfo, ImageSummary, InstrumentMetadata

__all__ = [
    "MAX_PIXELS",
    "SUPPORTED_EXTENSIONS",
    "ImageInfo",
    "ImageSummary",
    "InstrumentMetadata",
    "probe",
    "read_display",
    "read_frame",
    "read_summary",
    "to_display",
]

PathLike = str | os.PathLike[str]


class _Reader(Protocol):
    """A reader module of one backend (`_pillow`, `_tiff`, `_mrc`)."""

    def probe(self, path: Path) -> ImageInfo: ...
    def read_frame(self, path: Path, frame: int = 0) -> np.ndarray: ...
    def read_display(self, path: Path, frame: int = 0, max_size: int | None = None) -> np.ndarray: ...
    def read_summary(self, path: Path, thumb_size: int = 256) -> ImageSummary: ...


_SIMPLE: dict[str, _Reader] = {"pillow": _pillow, "tiff": _tiff, "mrc": _mrc}


def probe(path: PathLike) -> ImageInfo:
    """Describe an image file from its header and metadata, without decoding its pixels.

    Raises
    ------
    ImageReadError
        The file is missing, empty, of an unknown format, corrupt, too large or not a picture.
    """
    path = Path(path)
    backend = detect_backend(path)
    if backend in _SIMPLE:
        return _SIMPLE[backend].probe(path)
    if backend in _optional.BACKENDS:
        return _optional.probe(path, backend)
    return _rsciio.probe(path, backend)


def read_frame(path: PathLike, frame: int = 0) -> np.ndarray:
    """Full-resolution pixels of one frame in their stored dtype.

    Returns ``(H, W)`` or ``(H, W, C)``. JPEG/PNG/GIF/BMP: EXIF orientation applied, palettes expanded
    (to gray where the palette is gray, else RGB/RGBA), big-endian data made native. TIFF: planar
    samples interleaved, palettes expanded the same way, min-is-white inverted. DM/EMD/SER: the frame
    of a stack in C order over the navigation axes.
    """
    path = Path(path)
    backend = detect_backend(path)
    if backend in _SIMPLE:
        return _SIMPLE[backend].read_frame(path, frame)
    if backend in _optional.BACKENDS:
        return _optional.read_frame(path, backend, frame)
    return _rsciio.read_frame(path, backend, frame)


def read_display(path: PathLike, frame: int = 0, max_size: int | None = None) -> np.ndarray:
    """One frame as uint8 ``(H, W)`` or ``(H, W, 3)``, longest side at most *max_size*.

    Equals ``resize(to_display(read_frame(path, frame)))`` except that it avoids decoding the full
    resolution where the format allows: JPEG DCT-domain downscaling (``Image.draft``) and TIFF pyramid
    levels. Pillow images also get their embedded ICC profile converted to sRGB.
    """
    path = Path(path)
    backend = detect_backend(path)
    if backend in _SIMPLE:
        return _SIMPLE[backend].read_display(path, frame, max_size)
    if backend in _optional.BACKENDS:
        return _optional.read_display(path, backend, frame, max_size)
    return _rsciio.read_display(path, backend, frame, max_size)


def read_summary(path: PathLike, thumb_size: int = 256) -> ImageSummary:
    """`probe` and a thumbnail of frame 0 from a single open of the file (the importer's call).

    The thumbnail is uint8, longest side at most *thumb_size*, aspect kept, never enlarged.
    """
    path = Path(path)
    backend = detect_backend(path)
    if backend in _SIMPLE:
        return _SIMPLE[backend].read_summary(path, thumb_size)
    if backend in _optional.BACKENDS:
        return _optional.read_summary(path, backend, thumb_size)
    return _rsciio.read_summary(path, backend, thumb_size)
