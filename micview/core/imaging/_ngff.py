"""OME-NGFF (OME-Zarr) image metadata, read from the folder's JSON with the standard library only.

An OME-Zarr image is a folder (``name.ome.zarr`` or ``name.zarr``) holding a Zarr group whose attributes carry a
``multiscales`` list: the resolution levels (``datasets``, full resolution first), the axes (``t``/``c``/``z``/
``y``/``x``, with units) and each level's ``coordinateTransformations`` (scale per axis). Where that JSON lives:

=======  ==========  ===============================================================================
NGFF     Zarr        attributes
=======  ==========  ===============================================================================
0.1–0.4  v2          ``.zattrs`` → ``multiscales``
0.5      v3          ``zarr.json`` → ``attributes.ome.multiscales``
=======  ==========  ===============================================================================

The bioformats2raw layout (``"bioformats2raw.layout": 3`` at the root, the images in ``0/``, ``1/`` …) is the
usual output of converting a vendor file; micview takes its first image, as it takes a LIF's first series.
Reading this JSON is all a folder scan does: it tells an image from any other Zarr folder without importing
``zarr`` or touching a chunk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micview.core.imaging._common import fail


@dataclass(frozen=True, slots=True)
class Level:
    """One resolution level: the array's path inside the image group and its scale per axis (or ``None``)."""

    path: str
    scale: tuple[float, ...] | None


@dataclass(frozen=True, slots=True)
class NgffImage:
    """What the multiscales metadata says, before any array is opened."""

    group: str  # path of the image group inside the folder ("" for the root, "0" for bioformats2raw)
    version: str | None
    axes: tuple[str, ...]  # lower-case axis names, y and x last
    units: tuple[str | None, ...]
    levels: tuple[Level, ...]  # full resolution first
    attributes: dict[str, Any]  # the image group's OME attributes (for raw metadata)


def attributes(folder: Path) -> dict[str, Any] | None:
    """The OME attributes of the Zarr group at ``folder`` (v3 ``attributes.ome``, or v2 ``.zattrs``), or ``None``
    where the folder is not a Zarr group at all. Unreadable or invalid JSON raises ``ValueError``/``OSError``."""
    v3 = folder / "zarr.json"
    if v3.is_file():
        meta = json.loads(v3.read_text("utf-8"))
        attrs = meta.get("attributes", {}) if isinstance(meta, dict) else {}
        ome = attrs.get("ome") if isinstance(attrs, dict) else None
        return ome if isinstance(ome, dict) else (attrs if isinstance(attrs, dict) else {})
    v2 = folder / ".zattrs"
    if v2.is_file():
        attrs = json.loads(v2.read_text("utf-8"))
        return attrs if isinstance(attrs, dict) else {}
    return {} if (folder / ".zgroup").is_file() or (folder / ".zarray").is_file() else None


def skip_reason(folder: Path) -> str | None:
    """Why a ``.zarr`` folder is not imported as an image, or ``None`` where it holds an OME-NGFF image."""
    try:
        find_image(folder)
    except Exception as exc:  # ImageReadError, or OSError/ValueError from a broken JSON file
        text = str(exc)
        return text.split(": ", 1)[1] if text.startswith(folder.name + ": ") else f"cannot be read ({text})"
    return None


def find_image(folder: Path) -> NgffImage:
    """Locate and parse the first multiscales image in an OME-Zarr folder.

    Raises
    ------
    ImageReadError
        The folder is not a Zarr group, has no OME-NGFF image metadata, is a plate, or its metadata is invalid.
    """
    try:
        attrs = attributes(folder)
        if attrs is None:
            fail(folder, "a .zarr folder without Zarr metadata (no zarr.json, .zattrs or .zgroup): skipped")
        group = ""
        if "multiscales" not in attrs and "bioformats2raw.layout" in attrs:
            group, attrs = "0", attributes(folder / "0") or {}
    except (OSError, ValueError) as exc:
        fail(folder, f"its Zarr metadata cannot be read ({exc})")
    if "multiscales" not in attrs:
        kind = "an OME-Zarr plate (HCS), which micview does not import yet" if "plate" in attrs else None
        fail(folder, f"{kind or 'a Zarr folder without OME-NGFF image metadata (no multiscales)'}: skipped")
    return _parse(folder, group, attrs)


def _parse(folder: Path, group: str, attrs: dict[str, Any]) -> NgffImage:
    multiscales = attrs["multiscales"]
    if not isinstance(multiscales, list) or not multiscales or not isinstance(multiscales[0], dict):
        fail(folder, "the OME-NGFF multiscales metadata is empty or not a list")
    ms = multiscales[0]
    datasets = ms.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        fail(folder, "the OME-NGFF multiscales metadata lists no resolution levels (datasets)")
    axes, units = _axes(ms.get("axes"))
    outer = _scale(ms.get("coordinateTransformations"))
    levels = tuple(Level(str(d["path"]), _combine(_scale(d.get("coordinateTransformations")), outer))
                   for d in datasets if isinstance(d, dict) and "path" in d)  # fmt: skip
    if not levels:
        fail(folder, "no resolution level of the OME-NGFF metadata names its array (datasets[].path)")
    version = ms.get("version") or attrs.get("version")
    return NgffImage(group, str(version) if version else None, axes, units, levels, attrs)


def _axes(raw: Any) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """Axis names and units; NGFF 0.3 lists bare names, 0.4+ objects, 0.1/0.2 nothing (then t, c, z, y, x)."""
    if not isinstance(raw, list) or not raw:
        return (), ()
    names = tuple(str(a.get("name", "") if isinstance(a, dict) else a).lower() for a in raw)
    units = tuple(str(a["unit"]) if isinstance(a, dict) and a.get("unit") else None for a in raw)
    return names, units


def _scale(transforms: Any) -> tuple[float, ...] | None:
    for t in transforms if isinstance(transforms, list) else ():
        if isinstance(t, dict) and t.get("type") == "scale" and isinstance(t.get("scale"), list):
            try:
                return tuple(float(v) for v in t["scale"])
            except (TypeError, ValueError):
                return None
    return None


def _combine(level: tuple[float, ...] | None, outer: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """A level's scale followed by the multiscale-wide one (NGFF applies both, level first)."""
    if level is None or outer is None or len(level) != len(outer):
        return level
    return tuple(a * b for a, b in zip(level, outer, strict=True))
