"""Nikon ND2 through ``nd2`` (the ``nd2`` extra). See `_optional` for the choice.

Frames are the file's sequence frames (time points × positions × z sections, in the file's order) times its
channels: frame ``f`` is channel ``f % C`` of sequence frame ``f // C``. RGB files (brightfield colour
cameras) give colour frames. ``nd2`` reads the header and the frame index on open; one frame is read per call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.imaging._optional import Source
from micview.core.imaging.metadata import clean_text, distinct_y, jsonable, length_to_nm, parse_datetime
from micview.core.imaging.types import InstrumentMetadata


@contextmanager
def open_source(path: Path) -> Iterator[Source]:
    import nd2

    with nd2.ND2File(str(path)) as f:
        yield _source(f)


def _source(f: Any) -> Source:
    attrs = f.attributes
    rgb = bool(f.is_rgb)
    channels = 1 if rgb else int(f.sizes.get("C", 1))
    sequence = int(attrs.sequenceCount)  # frames actually acquired (an aborted time lapse has fewer than planned)

    def read(frame: int, max_size: int | None) -> np.ndarray:
        arr = np.asarray(f.read_frame(frame // channels))
        return arr[frame % channels] if channels > 1 else arr

    voxel = f.voxel_size()
    x, y = (length_to_nm(voxel.x, "um"), length_to_nm(voxel.y, "um")) if _calibrated(f) else (None, None)
    text = dict(f.text_info or {})
    instrument = InstrumentMetadata(
        pixel_size_nm=x,
        pixel_size_y_nm=distinct_y(x, y),
        acquired_at=parse_datetime(text.get("date")),
        detector=clean_text(str(text.get("capturing", "")).splitlines()[0] if text.get("capturing") else None),
    )
    raw = {"sizes": dict(f.sizes), "voxel_size_um": list(voxel), "text_info": text}
    return Source("ND2", int(attrs.widthPx), int(attrs.heightPx), sequence * channels, 3 if rgb else 1,
                  np.dtype(f.dtype), instrument, jsonable(raw), read)  # fmt: skip


def _calibrated(f: Any) -> bool:
    """nd2 reports 1 µm per pixel for an uncalibrated file; its metadata says whether X was calibrated."""
    try:
        return bool(f.metadata.channels[0].volume.axesCalibrated[0])
    except (AttributeError, IndexError, TypeError):
        return False
