"""Leica LIF through ``liffile`` (installed with micview). See `_optional` for the choice.

A LIF holds several images (series); micview takes the first, as tifffile's first series for TIFF. Its
frames are liffile's frames (every plane over the non-XY dimensions); one frame is read per call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.imaging._optional import Source
from micview.core.imaging.metadata import distinct_y, jsonable, length_to_nm
from micview.core.imaging.types import InstrumentMetadata


@contextmanager
def open_source(path: Path) -> Iterator[Source]:
    import liffile

    with liffile.LifFile(str(path)) as lif:
        if not lif.images:
            raise ValueError("the file holds no image")
        yield _source(lif.images[0])


def _spacing_nm(image: Any, label: str) -> float | None:
    for dim in getattr(image, "_dimensions", ()):  # liffile keeps the unit only on its dimension records
        if dim.label == label and dim.number_elements > 1:
            return length_to_nm(dim.length / (dim.number_elements - 1), dim.unit)
    return None


def _source(image: Any) -> Source:
    sizes = dict(image.sizes)
    frames = image.frames

    def read(frame: int, max_size: int | None) -> np.ndarray:
        return np.asarray(frames[frame])

    x, y = _spacing_nm(image, "X"), _spacing_nm(image, "Y")
    instrument = InstrumentMetadata(pixel_size_nm=x, pixel_size_y_nm=distinct_y(x, y))
    raw = {"name": image.name, "sizes": sizes, "dims": list(image.dims)}
    return Source("LIF", int(sizes["X"]), int(sizes["Y"]), len(frames), int(sizes.get("S", 1)),
                  np.dtype(image.dtype), instrument, jsonable(raw), read)  # fmt: skip
