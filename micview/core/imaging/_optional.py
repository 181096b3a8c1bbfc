"""Light-microscopy containers read through third-party readers: Nikon ND2, Zeiss CZI, Leica LIF, OME-Zarr.

Each reader was chosen as the maintained one with a licence that allows redistribution:

=====  ==============  ============  ======================================================================
fmt    reader          licence       installed
=====  ==============  ============  ======================================================================
LIF    ``liffile``     BSD-3         always: pure Python + numpy, ~150 KB ("readlif" is GPL-3.0: not used)
Zarr   ``zarr``        MIT           always: OME-Zarr folders (NGFF 0.4/Zarr v2, 0.5/Zarr v3), see `_zarr`
ND2    ``nd2``         BSD-3         extra ``[nd2]``: pulls ome-types, pydantic and xsdata for its metadata
CZI    ``pylibCZIrw``  LGPL-3.0      extra ``[czi]``: Zeiss's libCZI, LGPL, and it requires an 86 MB cmake
=====  ==============  ============  ======================================================================

(``aicspylibczi`` is GPL-3.0; ``czifile`` has had no release since 2019.) A file of such a format is always
recognised by its extension and first bytes; without its reader it is recorded with the command that
installs it, never skipped. Every plane (time point × z section × channel) is one gray frame; RGB files
are frames of colour pictures. Only the frame asked for is read, at reduced resolution where the format
keeps a pyramid (CZI).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.errors import ImageReadError
from micview.core.imaging._common import check_frame, check_pixels, describe, fail, mode_for
from micview.core.imaging.display import resize_longest, to_display
from micview.core.imaging.types import ImageInfo, ImageSummary, InstrumentMetadata


@dataclass(frozen=True, slots=True)
class Reader:
    """What a format needs: its name, the module to import, the extra that installs it, and its adapter."""

    name: str
    module: str
    extra: str | None  # None: part of micview's own install
    adapter: str  # micview module with ``open_source(path) -> context manager of Source``


BACKENDS = {
    "nd2": Reader("Nikon ND2", "nd2", "nd2", "micview.core.imaging._nd2"),
    "czi": Reader("Zeiss CZI", "pylibCZIrw", "czi", "micview.core.imaging._czi"),
    "lif": Reader("Leica LIF", "liffile", None, "micview.core.imaging._lif"),
    "zarr": Reader("OME-Zarr", "zarr", None, "micview.core.imaging._zarr"),
}


@dataclass(slots=True)
class Source:
    """An open file, described from its header, with a function that reads one frame."""

    format: str
    width: int
    height: int
    frames: int
    channels: int
    dtype: np.dtype[Any]
    instrument: InstrumentMetadata
    raw: dict[str, object]
    read: Callable[[int, int | None], np.ndarray]  # (frame, longest side wanted or None) -> pixels
    pyramid: bool = False  # True: ``read`` picks a resolution level and refuses an oversized one itself (OME-Zarr)


def require(path: Path, backend: str) -> None:
    """Fail with the install command when the optional reader of ``backend`` is missing."""
    reader = BACKENDS[backend]
    try:
        importlib.import_module(reader.module)
    except ImportError:
        how = (
            f"pip install 'micview[{reader.extra}]'"
            if reader.extra
            else f"reinstall micview (or pip install {reader.module})"
        )
        fail(path, f"reading {reader.name} files needs the reader '{reader.module}', which is not installed: {how}")


def _open(path: Path, backend: str) -> AbstractContextManager[Source]:
    require(path, backend)
    adapter = importlib.import_module(BACKENDS[backend].adapter)
    opened: AbstractContextManager[Source] = adapter.open_source(path)
    return opened


def _info(src: Source, path: Path) -> ImageInfo:
    if not src.pyramid:  # a pyramid over the limit still has small levels to list and thumbnail
        check_pixels(path, src.width, src.height)
    return ImageInfo(
        format=src.format,
        width=src.width,
        height=src.height,
        frames=src.frames,
        channels=src.channels,
        dtype=str(src.dtype),
        bit_depth=src.dtype.itemsize * 8,
        mode=mode_for(src.dtype, src.channels),
        instrument=src.instrument,
        raw_metadata=dict(src.raw),
    )


def _frame(src: Source, path: Path, frame: int, max_size: int | None) -> np.ndarray:
    if not src.pyramid:
        check_pixels(path, src.width, src.height)
    check_frame(path, frame, src.frames)
    try:
        arr = np.asarray(src.read(frame, max_size))
    except ImageReadError:
        raise
    except Exception as exc:  # truncated or corrupt pixel data, whatever the reader raises for it
        fail(path, f"the pixel data cannot be read ({describe(exc)})")
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


@contextmanager
def _checked(path: Path, backend: str) -> Iterator[Source]:
    try:
        with _open(path, backend) as src:
            yield src
    except ImageReadError:
        raise
    except Exception as exc:  # vendor readers raise anything on a damaged file (struct.error, ParseError...)
        fail(path, f"cannot be read as a {BACKENDS[backend].name} file ({describe(exc)})")


def probe(path: Path, backend: str) -> ImageInfo:
    with _checked(path, backend) as src:
        return _info(src, path)


def read_frame(path: Path, backend: str, frame: int = 0) -> np.ndarray:
    with _checked(path, backend) as src:
        return _frame(src, path, frame, None)


def read_display(path: Path, backend: str, frame: int = 0, max_size: int | None = None) -> np.ndarray:
    with _checked(path, backend) as src:
        return resize_longest(to_display(_frame(src, path, frame, max_size)), max_size)


def read_summary(path: Path, backend: str, thumb_size: int = 256) -> ImageSummary:
    with _checked(path, backend) as src:
        info = _info(src, path)
        return ImageSummary(info, resize_longest(to_display(_frame(src, path, 0, thumb_size)), thumb_size))
