"""Plain data describing an image file, shared by the readers, the store and the importer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True)
class InstrumentMetadata:
    """Acquisition facts normalised to fixed units, so they can be filtered, sorted and coloured by.

    Every field is ``None`` where the file does not say. Units are in the names.
    """

    pixel_size_nm: float | None = None  # x (column) spacing of one pixel in nanometres
    pixel_size_y_nm: float | None = None  # y spacing, only where it differs from x
    voltage_kv: float | None = None  # accelerating / high voltage
    magnification: float | None = None
    hfw_um: float | None = None  # horizontal field width
    working_distance_mm: float | None = None
    detector: str | None = None
    instrument: str | None = None  # microscope / camera model
    acquired_at: str | None = None  # ISO 8601 date-time as the file states it (no time-zone guessing)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ImageInfo:
    """What an image file holds, read from its header (and metadata) without decoding all pixels."""

    format: str  # short name: "JPEG", "PNG", "BMP", "GIF", "TIFF", "DM3", "DM4", "EMD", "SER", ...
    width: int
    height: int
    frames: int = 1  # pages / slices / time points that can be shown as separate 2-D pictures
    channels: int = 1  # 1 gray, 3 RGB, 4 RGBA
    dtype: str = "uint8"  # numpy dtype name of the stored samples
    bit_depth: int = 8  # bits per sample
    mode: str = "L"  # human-readable pixel kind, e.g. "L", "RGB", "RGBA", "P", "I;16", "F", "complex"
    instrument: InstrumentMetadata = field(default_factory=InstrumentMetadata)
    raw_metadata: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable, size-capped


@dataclass(slots=True)
class ImageSummary:
    """One read of a file for import: its description and a small display-ready picture."""

    info: ImageInfo
    thumbnail: np.ndarray  # uint8, (h, w) or (h, w, 3), longest side <= the requested size
