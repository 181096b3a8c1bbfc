"""Small OME-Zarr folders written with ``zarr`` itself, as converters (bioformats2raw, ome-zarr-py) lay them out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

_AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


def write_ome_zarr(
    path: Path,
    levels: list[np.ndarray],
    *,
    axes: str = "yx",
    zarr_format: int = 3,
    scale_yx: tuple[float, float] | None = None,
    unit: str | None = "micrometer",
) -> Path:
    """An NGFF image: 0.5 on Zarr v3 or 0.4 on Zarr v2, one array per level (level ``k`` scaled by ``2**k``)."""
    import zarr

    group = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    datasets = []
    for k, data in enumerate(levels):
        chunks = (*(1,) * (data.ndim - 2), 16, 16)
        group.create_array(str(k), shape=data.shape, dtype=data.dtype, chunks=chunks)[...] = data
        entry: dict[str, Any] = {"path": str(k)}
        if scale_yx is not None:
            scale = [1.0] * (data.ndim - 2) + [scale_yx[0] * 2**k, scale_yx[1] * 2**k]
            entry["coordinateTransformations"] = [{"type": "scale", "scale": scale}]
        datasets.append(entry)
    axis_list = [{"name": a, "type": _AXIS_TYPES[a], **({"unit": unit} if unit and a in "yx" else {})} for a in axes]
    multiscales = {"axes": axis_list, "datasets": datasets, "name": path.name}
    if zarr_format == 2:
        group.attrs["multiscales"] = [{"version": "0.4", **multiscales}]
    else:
        group.attrs["ome"] = {"version": "0.5", "multiscales": [multiscales]}
    return path


def pyramid(height: int = 64, width: int = 48, seed: int = 0) -> list[np.ndarray]:
    """Two uint16 levels; level 1 is NOT a downsample of level 0 but its negative, so a test can tell which
    level a picture was made from."""
    full = np.random.default_rng(seed).integers(0, 4000, (height, width), dtype=np.uint16)
    return [full, (4000 - full[::2, ::2]).astype(np.uint16)]


def chunk_files(level: Path) -> list[Path]:
    """The chunk files of one level's array (v2 ``0.0``, v3 ``c/0/0``): everything but its JSON metadata."""
    meta = {".zarray", ".zattrs", "zarr.json"}
    return sorted(p for p in level.rglob("*") if p.is_file() and p.name not in meta)


def corrupt_chunks(level: Path) -> int:
    """Overwrite every chunk of a level with bytes no codec decodes; returns how many."""
    files = chunk_files(level)
    for f in files:
        f.write_bytes(b"not a compressed chunk" * 4)
    return len(files)
