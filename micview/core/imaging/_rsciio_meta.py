"""Instrument metadata from rosettasciio signals (DM3/DM4, Velox and Berkeley EMD, TIA SER/EMI, Bruker BCF).

Pixel size comes from the calibrated axes (any length unit; reciprocal units such as ``1/nm`` of a
diffraction pattern give no real-space pixel size, the calibration stays in ``raw_metadata["axes"]``).
The rest comes from rosettasciio's own tag mapping (the one HyperSpy applies to fill
``Acquisition_instrument``), with vendor tags as fallbacks where the mapping leaves gaps.
"""

from __future__ import annotations

from typing import Any

from micview.core.imaging.metadata import (
    clean_text,
    combine_date_time,
    dig,
    distinct_y,
    jsonable,
    length_to_nm,
    parse_magnification,
    positive,
)
from micview.core.imaging.types import InstrumentMetadata


def rsciio_metadata(signal: dict[str, Any], backend: str) -> tuple[InstrumentMetadata, dict[str, Any]]:
    """Normalised instrument facts and JSON-safe raw metadata of one rosettasciio signal dict."""
    axes = [_axis(a) for a in signal.get("axes") or []]
    original = signal.get("original_metadata") or {}
    mapped = _apply_mapping(original, signal.get("mapping") or {})
    general = {**(dig(signal, "metadata", "General") or {}), **(mapped.get("General") or {})}
    microscope = _acquisition(mapped) | _acquisition(signal.get("metadata") or {})
    vendor = _VENDOR[backend](original, signal.get("mapping") or {})
    x = length_to_nm(axes[-1]["scale"], axes[-1]["units"]) if axes else None
    y = length_to_nm(axes[-2]["scale"], axes[-2]["units"]) if len(axes) > 1 else None
    instrument = InstrumentMetadata(
        pixel_size_nm=x,
        pixel_size_y_nm=distinct_y(x, y),
        voltage_kv=positive(microscope.get("beam_energy")) or vendor.get("voltage_kv"),
        magnification=parse_magnification(microscope.get("magnification")) or vendor.get("magnification"),
        working_distance_mm=vendor.get("working_distance_mm"),
        detector=vendor.get("detector") or clean_text(dig(microscope, "Detector", "detector_type")),
        instrument=clean_text(microscope.get("microscope")) or vendor.get("instrument"),
        acquired_at=_when(general) or vendor.get("acquired_at"),
    )
    raw = {"axes": axes, "metadata": {"General": general, "Acquisition_instrument": mapped.get(
        "Acquisition_instrument")}, "original_metadata": original}  # fmt: skip
    return instrument, jsonable(raw)


def _axis(axis: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "size", "scale", "offset", "units", "navigate")
    return {k: axis.get(k) for k in keys if k in axis}


def _acquisition(md: dict[str, Any]) -> dict[str, Any]:
    """``Acquisition_instrument.TEM`` or ``.SEM`` (whichever the file has), else empty."""
    inst = md.get("Acquisition_instrument") or {}
    return dict(inst.get("TEM") or inst.get("SEM") or {})


def _apply_mapping(original: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    """Apply rosettasciio's ``{source.path: (target.path, function)}`` mapping, skipping what fails."""
    result: dict[str, Any] = {}
    for source, target in mapping.items():
        value = dig(original, *source.split("."))
        if value is None or not isinstance(target, tuple) or len(target) != 2:
            continue
        try:
            value = target[1](value) if target[1] else value
        except Exception:  # a vendor quirk in one tag must not lose the others
            continue
        node = result
        *parents, leaf = str(target[0]).split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return result


def _when(general: dict[str, Any]) -> str | None:
    date, time = clean_text(general.get("date")), clean_text(general.get("time"))
    if not date:
        return None
    stamp = combine_date_time(date, time)
    if stamp and time and general.get("time_zone") == "UTC":
        stamp += "+00:00"
    return stamp


def _image_tags(original: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    """The ``ImageTags`` group of the image rosettasciio chose (its mapping names the TagGroup)."""
    for key in mapping:
        if ".ImageTags" in key:
            path = [*key.split(".ImageTags")[0].split("."), "ImageTags"]
            return dig(original, *path) or {}
    return dig(original, "ImageList", "TagGroup0", "ImageTags") or {}


def _dm(original: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    tags = _image_tags(original, mapping)
    info = tags.get("Microscope Info") or {}
    names = (dig(tags, "Session Info", "Microscope"), info.get("Microscope"), info.get("Name"))
    detectors = (dig(tags, "Acquisition", "Device", "Name"), dig(tags, "DataBar", "Device Name"),
                 dig(tags, "Session Info", "Detector"))  # fmt: skip
    voltage = positive(info.get("Voltage"))
    return {
        "voltage_kv": voltage / 1000 if voltage else None,
        "magnification": positive(info.get("Indicated Magnification")) or positive(info.get("Actual Magnification")),
        "instrument": next((t for t in map(clean_text, names) if t), None),
        "detector": next((t for t in map(clean_text, detectors) if t), None),
        "acquired_at": combine_date_time(
            dig(tags, "DataBar", "Acquisition Date"), dig(tags, "DataBar", "Acquisition Time")
        ),
    }


def _emd(original: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    if "microscope" in original:  # Berkeley NCEM EMD
        scope = original.get("microscope") or {}
        voltage = positive(scope.get("high tension"))
        return {
            "voltage_kv": voltage / 1000 if voltage else None,
            "magnification": positive(scope.get("magnification")),
            "instrument": clean_text(scope.get("name")),
        }
    voltage = positive(dig(original, "Optics", "AccelerationVoltage"))  # Velox
    return {
        "voltage_kv": voltage / 1000 if voltage else None,
        "magnification": positive(dig(original, "Optics", "NominalMagnification")),
        "instrument": clean_text(dig(original, "Instrument", "InstrumentModel")),
        "detector": clean_text(dig(original, "BinaryResult", "Detector")),
    }


def _ser(original: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    described = dig(original, "ObjectInfo", "ExperimentalDescription") or {}
    return {
        "voltage_kv": positive(described.get("High tension_kV")),
        "magnification": positive(described.get("Magnification_x")),
        "instrument": clean_text(described.get("Microscope")),
        "detector": clean_text(dig(original, "ObjectInfo", "AcquireInfo", "CameraNamePath")),
    }


def _bcf(original: dict[str, Any], mapping: dict[str, Any]) -> dict[str, Any]:
    """Bruker Esprit's ``TRTSEMData``: HV in kV, WD in mm, Mag (the image axes are in pixels unless the
    file was calibrated, in which case rosettasciio gives µm)."""
    scope = original.get("Microscope") or {}
    return {
        "voltage_kv": positive(scope.get("HV")),
        "magnification": positive(scope.get("Mag")),
        "working_distance_mm": positive(scope.get("WD")),
    }


_VENDOR = {"dm": _dm, "emd": _emd, "ser": _ser, "bcf": _bcf}
