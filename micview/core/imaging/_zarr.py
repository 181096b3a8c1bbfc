"""OME-Zarr (OME-NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) through ``zarr`` (installed with micview). See `_optional`.

Why plain ``zarr`` (MIT, ~40 MB with numcodecs) and not ``ome-zarr`` (BSD-2): ``zarr`` 3 reads both Zarr
formats, and the NGFF metadata micview needs (levels, axes, scale) is a few JSON keys (`_ngff`), whereas
``ome-zarr`` pulls in dask arrays, scikit-image, aiohttp/s3fs and pydantic models for reading and writing
remote stores.

Opening an array reads its JSON metadata only; a chunk is read when pixels inside it are indexed. Probing
therefore decodes nothing, and a thumbnail or a display picture of at most ``max_size`` pixels is taken from
the smallest resolution level whose longest side still reaches ``max_size`` — a large pyramid is never decoded
at full resolution to be listed or thumbnailed. `read_frame` (the viewer's full size) reads level 0. The
`MAX_PIXELS` limit applies to the level decoded: a whole-slide pyramid above it is listed and thumbnailed from
its small levels, and only a full-size read of it is refused.

Frames are the planes over the non-y/x axes (``t``, ``c``, ``z`` …) in C order of the axes as stored: for
``t, c, z, y, x`` frame ``f`` is ``(t, c, z) = unravel(f, (T, C, Z))``. Every plane is one gray frame, as for
ND2 and LIF channels. A level that also halves z (3-D pyramids) gives the nearest plane. The level-0 scale on
y and x, in the axes' unit (micrometre, nanometre, ångström …), gives ``pixel_size_nm``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.imaging._common import check_pixels, fail
from micview.core.imaging._ngff import NgffImage, find_image
from micview.core.imaging._optional import Source
from micview.core.imaging.metadata import distinct_y, jsonable, length_to_nm
from micview.core.imaging.types import InstrumentMetadata


@contextmanager
def open_source(path: Path) -> Iterator[Source]:
    import zarr

    image = find_image(path)
    root: Any = zarr.open_group(str(path), mode="r")  # Any: its items are groups or arrays
    group = root[image.group] if image.group else root
    arrays = [group[level.path] for level in image.levels]
    yield _source(path, image, arrays)


def _axes(path: Path, image: NgffImage, ndim: int) -> tuple[str, ...]:
    axes = image.axes or (tuple("tczyx"[-ndim:]) if ndim <= 5 else ())  # NGFF 0.1/0.2: t, c, z, y, x
    if len(axes) != ndim:
        fail(path, f"the OME-NGFF metadata names {len(axes)} axes but the full-resolution array has {ndim}")
    if ndim < 2 or axes[-2:] != ("y", "x"):
        fail(path, f"the last two axes are {list(axes[-2:])}, not y and x: not a picture micview can show")
    return axes


def _source(path: Path, image: NgffImage, arrays: list[Any]) -> Source:
    full = arrays[0]
    shape = tuple(int(n) for n in full.shape)
    axes = _axes(path, image, len(shape))
    planes = shape[:-2]
    height, width = shape[-2:]

    def read(frame: int, max_size: int | None) -> np.ndarray:
        arr = _level_for(arrays, max_size)
        check_pixels(path, int(arr.shape[-1]), int(arr.shape[-2]))  # the level decoded, not level 0
        index = np.unravel_index(frame, planes) if planes else ()
        scaled = tuple(min(n - 1, int(i) * n // p) for i, n, p in zip(index, arr.shape[:-2], planes, strict=True))
        return np.asarray(arr[(*scaled, slice(None), slice(None))])

    x, y = _pixel_size_nm(image, axes)
    raw = {
        "ngff_version": image.version, "image_group": image.group or None, "axes": list(axes),
        "units": list(image.units), "levels": [[int(n) for n in a.shape] for a in arrays],
        "scale": list(image.levels[0].scale or []), "chunks": [int(n) for n in full.chunks],
        "name": image.attributes.get("multiscales", [{}])[0].get("name"), "omero": image.attributes.get("omero"),
    }  # fmt: skip
    instrument = InstrumentMetadata(pixel_size_nm=x, pixel_size_y_nm=distinct_y(x, y))
    frames = int(np.prod(planes, dtype=np.int64)) if planes else 1
    dtype = np.dtype(full.dtype)
    return Source("OME-Zarr", width, height, frames, 1, dtype, instrument, jsonable(raw), read, pyramid=True)


def _level_for(arrays: list[Any], max_size: int | None) -> Any:
    """The smallest level whose longest side is still at least ``max_size`` (level 0 when ``None``)."""
    if max_size is None:
        return arrays[0]
    for arr in reversed(arrays):
        if max(int(arr.shape[-1]), int(arr.shape[-2])) >= max_size:
            return arr
    return arrays[0]


def _pixel_size_nm(image: NgffImage, axes: tuple[str, ...]) -> tuple[float | None, float | None]:
    scale = image.levels[0].scale
    units = image.units if len(image.units) == len(axes) else (None,) * len(axes)
    if scale is None or len(scale) != len(axes):
        return None, None
    return length_to_nm(scale[-1], units[-1]), length_to_nm(scale[-2], units[-2])
