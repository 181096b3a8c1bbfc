"""Zeiss CZI through pylibCZIrw (Zeiss's libCZI; the ``czi`` extra). See `_optional` for the choice.

Frames are the planes of the first scene in T, Z, C order (each channel a gray frame; BGR pixel types are
one colour frame). The bounding box comes from the subblock directory, so describing a file reads no pixels;
a thumbnail is read with ``zoom`` (libCZI uses the file's pyramid when it has one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.imaging._optional import Source
from micview.core.imaging.metadata import clean_text, dig, distinct_y, jsonable, length_to_nm, parse_datetime
from micview.core.imaging.types import InstrumentMetadata

_PLANE_DIMS = ("T", "Z", "C")
_DTYPES = {
    "Gray8": ("uint8", 1), "Gray16": ("uint16", 1), "Gray32Float": ("float32", 1), "Bgr24": ("uint8", 3),
    "Bgr48": ("uint16", 3), "Bgra32": ("uint8", 4), "Bgr96Float": ("float32", 3),
}  # fmt: skip


@contextmanager
def open_source(path: Path) -> Iterator[Source]:
    from pylibCZIrw import czi as pyczi

    with pyczi.open_czi(str(path)) as doc:
        yield _source(doc)


def _source(doc: Any) -> Source:
    box = doc.total_bounding_box
    rect = doc.total_bounding_rectangle
    sizes = {d: int(box[d][1] - box[d][0]) for d in _PLANE_DIMS if d in box}
    pixel_type = doc.pixel_types[0] if doc.pixel_types else "Gray8"
    dtype_name, channels = _DTYPES.get(pixel_type, ("uint8", 1))
    metadata = doc.metadata
    instrument, raw = _metadata(metadata, sizes, pixel_type)
    frames = int(np.prod([sizes.get(d, 1) for d in _PLANE_DIMS]))

    def read(frame: int, max_size: int | None) -> np.ndarray:
        index = np.unravel_index(frame, [sizes.get(d, 1) for d in _PLANE_DIMS])
        plane = {d: int(box[d][0] + i) for d, i in zip(_PLANE_DIMS, index, strict=True) if d in box}
        zoom = min(1.0, max_size / max(rect.w, rect.h)) if max_size else 1.0
        arr = np.asarray(doc.read(roi=rect, plane=plane, zoom=zoom))
        if arr.ndim == 3 and arr.shape[2] == 1:
            return arr[:, :, 0]
        return arr[:, :, [2, 1, 0, *range(3, arr.shape[2])]] if arr.ndim == 3 else arr  # BGR(A) -> RGB(A)

    return Source("CZI", int(rect.w), int(rect.h), frames, channels, np.dtype(dtype_name), instrument, raw, read)


def _metadata(md: dict[str, Any], sizes: dict[str, int], pixel_type: str) -> tuple[InstrumentMetadata, dict[str, Any]]:
    doc = md.get("ImageDocument", {}).get("Metadata", {})
    distances = dig(doc, "Scaling", "Items", "Distance") or []
    distances = distances if isinstance(distances, list) else [distances]
    scale = {d.get("@Id"): d.get("Value") for d in distances if isinstance(d, dict)}
    x, y = length_to_nm(scale.get("X"), "m"), length_to_nm(scale.get("Y"), "m")
    info = doc.get("Information", {})
    objective = dig(info, "Instrument", "Objectives", "Objective")
    objective = objective[0] if isinstance(objective, list) and objective else objective
    instrument = InstrumentMetadata(
        pixel_size_nm=x,
        pixel_size_y_nm=distinct_y(x, y),
        instrument=clean_text(dig(info, "Instrument", "Microscopes", "Microscope", "@Name")),
        acquired_at=parse_datetime(dig(info, "Image", "AcquisitionDateAndTime")),
    )
    raw = {"sizes": sizes, "pixel_type": pixel_type, "scaling_m": scale, "objective": objective,
           "document": dig(info, "Document") or {}, "image": dig(info, "Image") or {}}  # fmt: skip
    return instrument, jsonable(raw)
