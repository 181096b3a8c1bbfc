"""Gatan DM3/DM4, EMD (Thermo Fisher Velox and Berkeley NCEM), FEI TIA SER and Bruker BCF through rosettasciio.

Why rosettasciio: it is HyperSpy's maintained reader library (``rsciio``), the one the electron
microscopy community fixes first when a vendor changes a format; it covers all four formats with
calibrated axes (scale, offset, unit per axis) and the full original tag tree, and it reads lazily
(dask), so probing a file never decodes its pixels. It is slow to import (~1 s), so it is imported
inside functions only: the GUI must start fast.

A file may hold several signals (an image and a line plot, an EELS spectrum image…). micview takes
the first signal that is a picture — two real-space axes, possibly stacked — and otherwise refuses
the file with what it holds instead ("a 1-D EELS spectrum (2048 channels), not a picture").

A Bruker BCF holds an SEM image and an EDS hypermap (a spectrum per pixel, often hundreds of MB once
decoded); the SEM image is the picture, and it is read with ``select_type="image"`` so the hypermap is never
decoded, only its header parsed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.imaging._common import check_frame, check_pixels, describe, fail, mode_for
from micview.core.imaging._rsciio_meta import rsciio_metadata
from micview.core.imaging.display import resize_longest, to_display
from micview.core.imaging.metadata import dig
from micview.core.imaging.types import ImageInfo, ImageSummary

_SPECTRAL_WORDS = ("energy", "wavelength", "raman", "wavenumber")
_SPECTRAL_UNITS = ("ev", "kev", "mev", "cm-1", "1/cm")


@dataclass(slots=True)
class _Picture:
    signal: dict[str, Any]
    frame_shape: tuple[int, ...]  # navigation (stack) dimensions, possibly ()
    height: int
    width: int


def _file_reader(backend: str) -> Any:
    if backend == "dm":
        from rsciio.digitalmicrograph import file_reader
    elif backend == "emd":
        from rsciio.emd import file_reader
    elif backend == "bcf":
        from rsciio.bruker import file_reader

        return functools.partial(file_reader, select_type="image")
    else:
        from rsciio.tia import file_reader
    return file_reader


def _read_signals(path: Path, backend: str) -> list[dict[str, Any]]:
    try:
        signals = _file_reader(backend)(str(path), lazy=True)
    except Exception as exc:  # corrupt vendor files raise anything (struct.error, KeyError, OSError…)
        fail(path, f"cannot be read as {_format(path, backend)} (rosettasciio: {describe(exc)})")
    if backend == "ser":
        signals = _with_emi_metadata(path, signals)
    if backend == "bcf" and not signals:
        fail(path, "holds an EDS spectrum image but no SEM image; micview imports pictures")
    return list(signals)


def _with_emi_metadata(path: Path, signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """TIA keeps voltage, magnification and microscope in the ``.emi`` beside ``name_1.ser``."""
    emi = path.with_name(re.sub(r"_\d+$", "", path.stem) + ".emi")
    if not emi.is_file():
        return signals
    try:
        from rsciio.tia import file_reader

        paired = file_reader(str(emi), lazy=True)
    except Exception:  # a broken .emi must not hide the good .ser
        return signals
    mine = [s for s in paired if dig(s, "metadata", "General", "original_filename") == path.name]
    return mine or signals


def _format(path: Path, backend: str) -> str:
    if backend == "dm":
        with open(path, "rb") as fh:
            return "DM4" if fh.read(4) == b"\x00\x00\x00\x04" else "DM3"
    return {"emd": "EMD", "ser": "SER", "bcf": "BCF"}[backend]


def _is_spectral(axis: dict[str, Any]) -> bool:
    name = str(axis.get("name") or "").lower()
    units = str(axis.get("units") or "").lower().replace(" ", "")
    return any(w in name for w in _SPECTRAL_WORDS) or units in _SPECTRAL_UNITS


def _pick(signals: list[dict[str, Any]], path: Path) -> _Picture:
    reasons = []
    for signal in signals:
        picture_or_reason = _classify(signal)
        if isinstance(picture_or_reason, _Picture):
            return picture_or_reason
        reasons.append(picture_or_reason)
    fail(path, f"holds {reasons[0] if reasons else 'no data'}, not a picture")


def _classify(signal: dict[str, Any]) -> _Picture | str:
    shape = tuple(int(n) for n in signal["data"].shape)
    axes = signal.get("axes") or [{} for _ in shape]
    big = [i for i, n in enumerate(shape) if n > 1]
    spectral = [i for i in big if i < len(axes) and _is_spectral(axes[i])]
    kind = signal.get("metadata", {}).get("Signal", {}).get("signal_type") or ""
    if spectral:
        return _spectral_reason(shape, big, spectral[0], kind)
    if len(big) < 2:
        points = shape[big[0]] if big else 1
        return f"a 1-D signal ({points} points, e.g. a line profile)"
    return _Picture(signal, shape[:-2], shape[-2], shape[-1])


def _spectral_reason(shape: tuple[int, ...], big: list[int], axis: int, kind: str) -> str:
    channels = f"{shape[axis]}-channel {kind + ' ' if kind else ''}spectra"
    positions = [shape[i] for i in big if i != axis]
    if not positions:
        return f"a 1-D {kind + ' ' if kind else ''}spectrum ({shape[axis]} channels)"
    if len(positions) == 1:
        return f"a line scan of spectra ({positions[0]} positions × {channels})"
    grid = " × ".join(str(n) for n in positions)
    return f"a spectrum image (3-D signal with 1-D spectra: {grid} positions × {channels})"


def _dtype(picture: _Picture) -> tuple[np.dtype[Any], int]:
    dtype = np.dtype(picture.signal["data"].dtype)
    if dtype.names:  # DM RGB(A) is a structured dtype with fields R, G, B[, A]
        return np.dtype(dtype[dtype.names[0]]), len(dtype.names)
    return dtype, 1


def _info(picture: _Picture, path: Path, backend: str) -> ImageInfo:
    check_pixels(path, picture.width, picture.height)
    dtype, channels = _dtype(picture)
    instrument, raw = rsciio_metadata(picture.signal, backend)
    return ImageInfo(
        format=_format(path, backend),
        width=picture.width,
        height=picture.height,
        frames=int(np.prod(picture.frame_shape, dtype=np.int64)),
        channels=channels,
        dtype=str(dtype),
        bit_depth=dtype.itemsize * 8,
        mode=mode_for(dtype, channels),
        instrument=instrument,
        raw_metadata=raw,
    )


def _frame(picture: _Picture, path: Path, frame: int) -> np.ndarray:
    check_pixels(path, picture.width, picture.height)
    frames = int(np.prod(picture.frame_shape, dtype=np.int64))
    check_frame(path, frame, frames)
    index = np.unravel_index(frame, picture.frame_shape) if picture.frame_shape else ()
    try:
        arr = np.asarray(picture.signal["data"][index])
    except Exception as exc:  # truncated or corrupt pixel block
        fail(path, f"the pixel data cannot be read (rosettasciio: {describe(exc)})")
    if arr.dtype.names:
        arr = np.stack([arr[name] for name in arr.dtype.names[:4]], axis=-1)
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _load(path: Path, backend: str) -> _Picture:
    return _pick(_read_signals(path, backend), path)


def probe(path: Path, backend: str) -> ImageInfo:
    return _info(_load(path, backend), path, backend)


def read_frame(path: Path, backend: str, frame: int = 0) -> np.ndarray:
    return _frame(_load(path, backend), path, frame)


def read_display(path: Path, backend: str, frame: int = 0, max_size: int | None = None) -> np.ndarray:
    return resize_longest(to_display(read_frame(path, backend, frame)), max_size)


def read_summary(path: Path, backend: str, thumb_size: int = 256) -> ImageSummary:
    picture = _load(path, backend)
    info = _info(picture, path, backend)
    thumb = resize_longest(to_display(_frame(picture, path, 0)), thumb_size)
    return ImageSummary(info=info, thumbnail=thumb)
