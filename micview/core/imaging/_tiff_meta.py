"""Instrument metadata from TIFF tags: FEI/Thermo, Zeiss SEM, TVIPS, Olympus SIS, ImageJ, OME, EXIF.

Each reader fills only what its tags state; later, more specific sources override generic ones
(EXIF ``Model`` < FEI ``SystemType``). Plain ``XResolution`` in dots per inch (72, 300, 2400 dpi from
a scanner or camera) is *not* a micrograph calibration and is never turned into a pixel size.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import tifffile

from micview.core.imaging.metadata import (
    as_float,
    clean_text,
    combine_date_time,
    distinct_y,
    jsonable,
    length_to_nm,
    parse_datetime,
    parse_magnification,
    positive,
)
from micview.core.imaging.types import InstrumentMetadata

_BASELINE = ("Make", "Model", "Software", "DateTime", "Artist", "HostComputer", "ImageDescription",
             "XResolution", "YResolution", "ResolutionUnit")  # fmt: skip


def tiff_metadata(tif: tifffile.TiffFile, width: int) -> tuple[InstrumentMetadata, dict[str, Any]]:
    """Normalised instrument facts and the JSON-safe raw tags of a TIFF file."""
    page = tif.pages.first
    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    tags = {name: page.tags.valueof(name) for name in _BASELINE if name in page.tags}
    exif = page.tags.valueof("ExifTag") or {}
    _generic(tags, exif, values)
    for reader in (_imagej, _ome, _sis, _tvips, _zeiss, _fei):
        reader(tif, width, values, raw)
    raw["tiff_tags"] = tags
    if exif:
        raw["exif"] = exif
    return InstrumentMetadata(**values), jsonable(raw)


def _put(values: dict[str, Any], **found: Any) -> None:
    values.update({k: v for k, v in found.items() if v is not None})


def _generic(tags: dict[str, Any], exif: dict[str, Any], values: dict[str, Any]) -> None:
    parts = [clean_text(tags.get("Make")), clean_text(tags.get("Model"))]
    when = parse_datetime(exif.get("DateTimeOriginal")) or parse_datetime(tags.get("DateTime"))
    _put(values, instrument=" ".join(p for p in parts if p) or None, acquired_at=when)


def _fei(tif: tifffile.TiffFile, width: int, values: dict[str, Any], raw: dict[str, Any]) -> None:
    """FEI/Thermo xT (FEI_HELIOS / FEI_SFEG tag): SI units (m, V) in an INI-like text block."""
    md = tif.fei_metadata
    if not md:
        return
    raw["FEI"] = md
    scan, beam, image = md.get("Scan", {}), md.get("Beam", {}), md.get("Image", {})
    column = md.get(str(beam.get("Beam", "EBeam")), {})
    hfw_m = positive(scan.get("HorFieldsize")) or positive(column.get("HFW"))
    pixel_x = length_to_nm(scan.get("PixelWidth"), "m")
    pixel_y = length_to_nm(scan.get("PixelHeight"), "m")
    if pixel_x is None and hfw_m and positive(image.get("ResolutionX")):
        pixel_x = hfw_m * 1e9 / float(image["ResolutionX"])
    hv = positive(beam.get("HV")) or positive(column.get("HV"))
    wd = positive(column.get("WD")) or positive(md.get("Stage", {}).get("WorkingDistance"))
    canvas = positive(image.get("MagCanvasRealWidth"))  # xT's magnification reference width
    detector = md.get("Detectors", {})
    name, mode = clean_text(detector.get("Name")), clean_text(detector.get("Mode"))
    user = md.get("User", {})
    _put(
        values,
        pixel_size_nm=pixel_x,
        pixel_size_y_nm=distinct_y(pixel_x, pixel_y),
        voltage_kv=hv / 1000 if hv else None,
        hfw_um=hfw_m * 1e6 if hfw_m else None,
        magnification=round(canvas / hfw_m, 3) if canvas and hfw_m else None,
        working_distance_mm=wd * 1000 if wd else None,
        detector=f"{name} ({mode})" if name and mode else name,
        instrument=(clean_text(md.get("System", {}).get("SystemType")) or "").replace('"', "") or None,
        acquired_at=combine_date_time(user.get("Date"), user.get("Time")),
    )


def _zeiss_entry(md: dict[str, Any], key: str) -> tuple[Any, str | None]:
    """CZ_SEM entries are ``(label, value[, unit])`` tuples."""
    entry = md.get(key)
    if not isinstance(entry, tuple) or len(entry) < 2:
        return None, None
    return entry[1], (entry[2] if len(entry) > 2 else None)


def _zeiss(tif: tifffile.TiffFile, width: int, values: dict[str, Any], raw: dict[str, Any]) -> None:
    """Zeiss SmartSEM (CZ_SEM tag).

    ``ap_pixel_size`` refers to a 1024-pixel-wide store resolution, not to the saved image (a 512 px
    image states 5.825 nm while its field ``ap_width`` of 5.965 µm spans 512 pixels: 11.65 nm). So the
    pixel size is the field width divided by the image width, as rosettasciio also computes it.
    """
    md = tif.sem_metadata
    if not md:
        return
    raw["CZ_SEM"] = md
    hfw_nm = length_to_nm(*_zeiss_entry(md, "ap_width"))
    pixel = _zeiss_pixel(md, width, hfw_nm)
    kv, kv_unit = _zeiss_entry(md, "ap_actualkv")
    kv = positive(kv)
    wd = length_to_nm(*_zeiss_entry(md, "ap_wd"))
    detector = _zeiss_entry(md, "dp_detector_channel")[0] or _zeiss_entry(md, "dp_detector_type")[0]
    _put(
        values,
        pixel_size_nm=pixel,
        voltage_kv=kv / 1000 if kv and kv_unit == "V" else kv,
        magnification=parse_magnification(_zeiss_entry(md, "ap_mag")[0]),
        hfw_um=hfw_nm / 1000 if hfw_nm else None,
        working_distance_mm=wd / 1e6 if wd else None,
        detector=clean_text(detector),
        instrument=clean_text(_zeiss_entry(md, "sv_serial_number")[0]),
        acquired_at=combine_date_time(_zeiss_entry(md, "ap_date")[0], _zeiss_entry(md, "ap_time")[0]),
    )


def _zeiss_pixel(md: dict[str, Any], width: int, hfw_nm: float | None) -> float | None:
    """Precise SI value (unlabelled tuple, index 3) scaled from 1024 px, checked against the field width."""
    primary = md.get("")
    precise = None
    if isinstance(primary, tuple) and len(primary) > 3:
        precise = length_to_nm(as_float(primary[3]), "m")
        precise = precise * 1024 / width if precise else None
    from_field = hfw_nm / width if hfw_nm else None
    if precise and (from_field is None or abs(precise - from_field) <= 0.01 * from_field):
        return precise
    return from_field


def _tvips(tif: tifffile.TiffFile, width: int, values: dict[str, Any], raw: dict[str, Any]) -> None:
    """TVIPS EM-MENU camera tags: pixel size in nm (as rosettasciio reads it), high tension in V."""
    md = tif.tvips_metadata
    if not md:
        return
    raw["TVIPS"] = md
    pixel_x, pixel_y = positive(md.get("PixelSizeX")), positive(md.get("PixelSizeY"))
    kv = positive(md.get("TemHighTension"))
    _put(
        values,
        pixel_size_nm=pixel_x,
        pixel_size_y_nm=distinct_y(pixel_x, pixel_y),
        voltage_kv=kv / 1000 if kv else None,
        magnification=positive(md.get("TemMagnification")),
        detector=clean_text(md.get("CameraType")),
        instrument=clean_text(md.get("TemType")),
    )


_SIS_PAGES = 4  # SIS writes its tag on the RGB picture or on the raw page after it, never deeper


def _first_pages(tif: tifffile.TiffFile, n: int) -> Iterator[Any]:
    """The first ``n`` pages, parsing no other IFD (a 10 000-page stack must not be walked for one tag)."""
    for i in range(n):
        try:
            yield tif.pages[i]
        except IndexError:
            return


def _sis(tif: tifffile.TiffFile, width: int, values: dict[str, Any], raw: dict[str, Any]) -> None:
    """Olympus SIS: pixel size in metres in private tag 33560 (or 33471), on one of the first pages."""
    for page in _first_pages(tif, _SIS_PAGES):
        tags = getattr(page, "tags", None)
        md = tags.valueof(33560) or tags.valueof(33471) if tags is not None else None
        if isinstance(md, dict):
            break
    else:
        return
    raw["OlympusSIS"] = md
    pixel_x = length_to_nm(md.get("pixelsizex"), "m")
    pixel_y = length_to_nm(md.get("pixelsizey"), "m")
    when = md.get("datetime")
    _put(
        values,
        pixel_size_nm=pixel_x,
        pixel_size_y_nm=distinct_y(pixel_x, pixel_y),
        magnification=positive(md.get("magnification")),
        detector=clean_text(md.get("cameraname")),
        acquired_at=when.isoformat() if isinstance(when, dt.datetime) and not values.get("acquired_at") else None,
    )


def _imagej(tif: tifffile.TiffFile, width: int, values: dict[str, Any], raw: dict[str, Any]) -> None:
    """ImageJ/Fiji: the length unit is in the description, pixels per unit in XResolution."""
    md = tif.imagej_metadata
    if not md:
        return
    raw["ImageJ"] = md
    page = tif.pages.first
    unit = clean_text(md.get("unit"))
    if unit and unit.lower() not in ("pixel", "pixels", "inch"):
        _put(values, pixel_size_nm=_per_unit(page, "XResolution", unit))
        y = _per_unit(page, "YResolution", unit)
        _put(values, pixel_size_y_nm=distinct_y(values.get("pixel_size_nm"), y))


def _per_unit(page: Any, tag: str, unit: str) -> float | None:
    value = page.tags.valueof(tag)
    if not isinstance(value, tuple) or len(value) != 2 or not value[0] or not value[1]:
        return None
    return length_to_nm(value[1] / value[0], unit)


def _ome(tif: tifffile.TiffFile, width: int, values: dict[str, Any], raw: dict[str, Any]) -> None:
    """OME-TIFF: PhysicalSizeX/Y (default unit µm) of the first ``Pixels`` element."""
    xml = tif.ome_metadata
    if not xml:
        return
    raw["OME"] = xml
    match = re.search(r"<(?:\w+:)?Pixels\b[^>]*>", xml)
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(0))) if match else {}
    x = length_to_nm(attrs.get("PhysicalSizeX"), attrs.get("PhysicalSizeXUnit", "µm"))
    y = length_to_nm(attrs.get("PhysicalSizeY"), attrs.get("PhysicalSizeYUnit", "µm"))
    _put(values, pixel_size_nm=x, pixel_size_y_nm=distinct_y(x, y))
