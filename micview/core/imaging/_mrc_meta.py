"""Instrument metadata of MRC files: the MRC2014 header, and a summary of the FEI1/FEI2 extended header.

The header gives the voxel size in ångström (``cella / mx``) and up to ten text labels. Thermo Fisher
software (EPU, Tomo, Velox) appends an extended header with one record per section: about a hundred fields
(high tension in V, pixel size in m, magnification, camera or STEM detector, time stamp as an OLE date).
A stack of 1000 frames carries 1000 such records (900 KB in the sample file); micview keeps the first
record's non-empty fields and the record count, not the whole block.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from micview.core.imaging.metadata import clean_text, distinct_y, jsonable, length_to_nm, positive
from micview.core.imaging.types import InstrumentMetadata

_HEADER_FIELDS = ("nx", "ny", "nz", "mode", "mx", "my", "mz", "ispg", "nversion", "dmin", "dmax", "dmean", "rms")
_OLE_EPOCH = dt.datetime(1899, 12, 30)  # FEI time stamps are OLE Automation dates (days since this)


def mrc_metadata(mrc: Any) -> tuple[InstrumentMetadata, dict[str, Any]]:
    """Normalised instrument facts and JSON-safe raw metadata of an open ``mrcfile`` object."""
    header = mrc.header
    voxel = mrc.voxel_size
    fei = _fei_record(mrc)
    x = length_to_nm(float(voxel.x), "A") or length_to_nm(fei.get("Pixel size X"), "m")
    y = length_to_nm(float(voxel.y), "A") or length_to_nm(fei.get("Pixel size Y"), "m")
    voltage = positive(fei.get("HT"))
    instrument = InstrumentMetadata(
        pixel_size_nm=x,
        pixel_size_y_nm=distinct_y(x, y),
        voltage_kv=voltage / 1000 if voltage else None,
        magnification=positive(fei.get("Magnification")),
        detector=clean_text(fei.get("STEM Detector name")) or clean_text(fei.get("Camera name")),
        instrument=clean_text(fei.get("Microscope type")),
        acquired_at=_ole_date(fei.get("Timestamp")),
    )
    raw: dict[str, Any] = {name: header[name].item() for name in _HEADER_FIELDS}
    raw["voxel_size_angstrom"] = [float(voxel.x), float(voxel.y), float(voxel.z)]
    raw["labels"] = [t for t in (_text(label) for label in header.label[: int(header.nlabl)]) if t]
    raw["extended_header"] = _extended_summary(mrc, fei)
    return instrument, jsonable(raw)


def _text(value: Any) -> str:
    if isinstance(value, np.ndarray):  # header fields are 0-d arrays
        value = value.item()
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("ascii", "replace").strip("\x00 ")
    return str(value).strip()


def _fei_record(mrc: Any) -> dict[str, Any]:
    """The first FEI extended-header record's non-empty fields, or ``{}`` for other files."""
    if _text(mrc.header.exttyp) not in ("FEI1", "FEI2"):
        return {}
    try:
        records = mrc.indexed_extended_header
    except (ValueError, TypeError, AttributeError):  # a damaged extended header must not lose the picture
        return {}
    if records is None or not records.dtype.names or len(records) == 0:
        return {}
    first = records[0]
    out: dict[str, Any] = {}
    for name in records.dtype.names:
        value = first[name]
        value = _text(value) if isinstance(value, bytes | np.bytes_) else value.item()
        if value not in ("", 0, 0.0) and not (isinstance(value, float) and np.isnan(value)):
            out[name] = value
    return out


def _extended_summary(mrc: Any, fei: dict[str, Any]) -> dict[str, Any] | None:
    size = int(mrc.header.nsymbt)
    if size <= 0:
        return None
    summary: dict[str, Any] = {"type": _text(mrc.header.exttyp) or None, "bytes": size}
    record = fei.get("Metadata size")
    if record:
        summary["records"] = size // int(record)
        summary["first_record"] = fei
    return summary


def _ole_date(days: Any) -> str | None:
    value = positive(days)
    if value is None or not 1 < value < 200_000:
        return None
    return (_OLE_EPOCH + dt.timedelta(days=value)).replace(microsecond=0).isoformat()
