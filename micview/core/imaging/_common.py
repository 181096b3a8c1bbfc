"""Limits, format detection and error helpers shared by the readers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from micview.core.errors import ImageReadError
from micview.core.folder_image import FOLDER_EXTENSIONS

MAX_PIXELS = 1_000_000_000
"""Largest picture (width × height of one frame) micview decodes: 1 gigapixel.

That is already 1 GB as 8-bit gray and 4–8 GB once converted for display, about what a desktop can
afford; beyond it a file is far more likely a decompression bomb or a corrupt header than a real
micrograph. The same number is given to Pillow as ``Image.MAX_IMAGE_PIXELS`` (see `_pillow`).
"""

PILLOW_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif"})
TIFF_EXTENSIONS = frozenset({".tif", ".tiff"})
RSCIIO_EXTENSIONS = frozenset({".dm3", ".dm4", ".emd", ".ser", ".bcf"})
MRC_EXTENSIONS = frozenset({".mrc", ".mrcs", ".map"})
OPTIONAL_EXTENSIONS = frozenset({".nd2", ".czi", ".lif"})  # third-party readers, two of them extras (`_optional`)
SUPPORTED_EXTENSIONS: frozenset[str] = (
    PILLOW_EXTENSIONS | TIFF_EXTENSIONS | RSCIIO_EXTENSIONS | MRC_EXTENSIONS | OPTIONAL_EXTENSIONS | FOLDER_EXTENSIONS
)
"""Lower-case file suffixes micview imports.

Files whose reader is an optional extra (Nikon ND2, Zeiss CZI) are always listed, so a folder import records
them with the command that installs their reader instead of skipping them silently.

``.emi`` is left out on purpose: a TIA ``.emi`` file only describes the pixels kept in the
``name_1.ser`` (``_2.ser`` …) files beside it. micview imports each ``.ser`` (and reads the ``.emi``
for its metadata), so a folder with a pair gives one image, not two; opening an ``.emi`` directly
raises an `ImageReadError` that names the ``.ser`` to open.
"""

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_SER_MAGIC = b"II\x97\x01"
_BCF_MAGIC = b"AAMVHFSS"  # Bruker's AidAform container
_OPTIONAL_MAGIC = {".nd2": (b"\xda\xce\xbe\x0a", b"\x00\x00\x00\x0c"), ".czi": (b"ZISRAWFILE",),
                   ".lif": (b"\x70\x00\x00\x00",)}  # fmt: skip


def fail(path: Path, reason: str) -> NoReturn:
    """Raise the user-facing error: ``"<file name>: <reason>"``."""
    raise ImageReadError(f"{path.name}: {reason}")


def detect_backend(path: Path) -> str:
    """Pick the reader from the file's first bytes, falling back to its extension.

    Content wins over the name, because image libraries are full of GIFs named ``.jpg``.
    Returns one of ``"tiff"``, ``"dm"``, ``"emd"``, ``"ser"``, ``"bcf"``, ``"mrc"``, ``"nd2"``, ``"czi"``,
    ``"lif"``, ``"zarr"``, ``"pillow"``. A folder is an image only as OME-Zarr (``.zarr``).
    """
    suffix = path.suffix.lower()
    if suffix in FOLDER_EXTENSIONS:
        if not path.is_dir():
            fail(path, "is not a folder: an OME-Zarr image is a folder (name.ome.zarr) of Zarr files")
        return "zarr"
    if path.is_dir():
        fail(path, "is a folder, not an image file")
    if suffix == ".emi":
        fail(path, f"is the metadata half of a TIA EMI/SER pair; open the data file {_ser_hint(path)}")
    if suffix not in SUPPORTED_EXTENSIONS:
        fail(path, f"unknown image format ({suffix or 'no extension'})")
    head = _read_head(path)
    if head[:4] in _TIFF_MAGIC:
        return "tiff"
    if head[:8] == _HDF5_MAGIC:
        return "emd"
    if head[:4] == _SER_MAGIC:
        return "ser"
    if head[:4] in (b"\x00\x00\x00\x03", b"\x00\x00\x00\x04") and suffix in (".dm3", ".dm4"):
        return "dm"
    if head[:8] == _BCF_MAGIC:
        return "bcf"
    if suffix in _OPTIONAL_MAGIC:
        if not head.startswith(_OPTIONAL_MAGIC[suffix]):
            fail(path, f"the content is not a valid {suffix[1:].upper()} file (unrecognised header)")
        return suffix[1:]
    if suffix in MRC_EXTENSIONS:
        if len(head) < 1024:
            fail(path, f"too short for an MRC file ({len(head)} bytes; the header alone is 1024)")
        return "mrc"
    if suffix in RSCIIO_EXTENSIONS:
        fail(path, f"the content is not a valid {suffix[1:].upper()} file (unrecognised header)")
    return "pillow"  # Pillow sniffs the content itself, restricted to PILLOW_FORMATS


def _read_head(path: Path) -> bytes:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(1024)  # enough for an MRC header, the longest one checked
    except FileNotFoundError:
        fail(path, "file not found")
    except OSError as exc:
        fail(path, f"cannot be opened ({exc.strerror or exc})")
    if size == 0:
        fail(path, "the file is empty (0 bytes)")
    return head


def _ser_hint(path: Path) -> str:
    sers = sorted(path.parent.glob(f"{path.stem}_*.ser"))
    return sers[0].name if sers else f"{path.stem}_1.ser (not found beside it)"


def check_pixels(path: Path, width: int, height: int, limit: int = MAX_PIXELS) -> None:
    """Refuse absurd sizes from the header, before any pixel is decoded."""
    if width <= 0 or height <= 0:
        fail(path, f"the header gives an empty picture ({width} × {height} pixels)")
    pixels = width * height
    if pixels > limit:
        fail(
            path,
            f"{pixels / 1e9:.1f} gigapixels ({width} × {height}) is above micview's limit of "
            f"{limit:,} pixels per picture (corrupt header or decompression bomb?)",
        )


def check_frame(path: Path, frame: int, frames: int) -> None:
    if not 0 <= frame < frames:
        fail(path, f"has {frames} frame(s); frame {frame} does not exist")


def mode_for(dtype: np.dtype[Any], channels: int) -> str:
    """Pillow-like name of the pixel kind: ``L``, ``I;16``, ``I``, ``F``, ``complex``, ``RGB`` …"""
    if channels in _COLOR_MODES:
        return _COLOR_MODES[channels]
    if dtype.kind == "c":
        return "complex"
    if dtype.kind == "f":
        return "F"
    if dtype.kind == "b":
        return "1"
    if dtype == np.uint8:
        return "L"
    return "I;16" if dtype == np.uint16 else "I"


_COLOR_MODES = {2: "LA", 3: "RGB", 4: "RGBA"}


def describe(exc: BaseException) -> str:
    """Short library message for the end of a user-facing reason."""
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"
