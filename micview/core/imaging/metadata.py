"""Shared helpers for instrument metadata: unit conversion, dates, and JSON-safe raw metadata.

Instrument files state lengths in whatever unit their software liked (FEI: metres, Zeiss: "nm" or "µm"
with either micro sign, DigitalMicrograph: "nm" / "µm" / "A", Berkeley EMD: "n_m"). Everything is
normalised here to the units in `InstrumentMetadata`'s field names. Reciprocal units (diffraction
patterns, FFTs) are not a real-space pixel size: they give ``None`` and stay in ``raw_metadata``.

The format-specific readers live in `_tiff_meta` and `_rsciio_meta`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

RAW_METADATA_LIMIT = 64 * 1024  # characters of JSON kept per image
_STRING_LIMIT = 2000
_ARRAY_LIMIT = 64

_METRES_PER_UNIT = {
    "m": 1.0,
    "cm": 1e-2,
    "mm": 1e-3,
    "um": 1e-6,
    "nm": 1e-9,
    "a": 1e-10,
    "pm": 1e-12,
}
_UNIT_ALIASES = {
    "micron": "um",
    "microns": "um",
    "micrometer": "um",
    "micrometre": "um",
    "nanometer": "nm",
    "nanometre": "nm",
    "angstrom": "a",
    "å": "a",
    "meter": "m",
    "metre": "m",
    "n_m": "nm",  # Berkeley EMD v0.2 writes "n_m"
    "u_m": "um",
}


def _normalise_unit(unit: str) -> str:
    text = unit.strip().replace("\u00b5", "u").replace("\u03bc", "u").replace("\u212b", "å")
    text = text.lower()
    return _UNIT_ALIASES.get(text, text)


def is_reciprocal_unit(unit: str | None) -> bool:
    """True for units such as ``1/nm`` or ``nm^-1`` (diffraction / FFT calibrations)."""
    if not unit:
        return False
    text = unit.replace(" ", "")
    return text.startswith("1/") or "^-1" in text or "⁻¹" in text


def length_to_nm(value: Any, unit: str | None) -> float | None:
    """Convert a length to nanometres; ``None`` for unknown, reciprocal or non-positive values.

    Parameters
    ----------
    value
        A number (or a numeric string) in *unit*.
    unit
        ``m``, ``mm``, ``µm``/``um``/``μm``/``micron``, ``nm``, ``Å``/``A``, ``pm`` (case-insensitive
        except that a plain ``A`` means ångström).
    """
    number = as_float(value)
    if number is None or number <= 0 or not unit or is_reciprocal_unit(unit):
        return None
    factor = _METRES_PER_UNIT.get(_normalise_unit(unit))
    if factor is None:
        return None
    return number * factor * 1e9


def as_float(value: Any) -> float | None:
    """A finite float from a number or numeric string, else ``None``."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def positive(value: Any) -> float | None:
    """A finite float > 0, else ``None`` (instruments write 0 for "unknown")."""
    number = as_float(value)
    return number if number is not None and number > 0 else None


def clean_text(value: Any) -> str | None:
    """A stripped, non-empty string, else ``None``."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\x00").strip()
    return text or None


_MAG_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6}


def parse_magnification(value: Any) -> float | None:
    """Parse ``50000``, ``"50.00 K X"``, ``"10Mx"``, ``"13500000 X"`` to a plain number."""
    number = positive(value)
    if number is not None:
        return number
    text = clean_text(value)
    match = re.fullmatch(r"([0-9.]+)\s*([kKmM]?)\s*[xX]?", text or "")
    if not match:
        return None
    base = positive(match.group(1))
    return None if base is None else base * _MAG_SUFFIX[match.group(2).lower()]


_DATE_FORMATS = ("%m/%d/%Y", "%d %b %Y", "%Y-%m-%d", "%Y:%m:%d", "%d.%m.%Y", "%a %b %d %Y")
_TIME_FORMATS = ("%I:%M:%S %p", "%H:%M:%S", "%H:%M:%S.%f", "%I:%M %p", "%H:%M")


def combine_date_time(date: Any, time: Any = None) -> str | None:
    """ISO 8601 from separate date and time strings as instruments write them; ``None`` if unparsable.

    Month-first is tried before day-first for ``a/b/yyyy`` (FEI xT and DigitalMicrograph write US dates).
    No time zone is guessed.
    """
    day = _parse_with(clean_text(date), _DATE_FORMATS)
    if day is None:
        return None
    clock = _parse_with(clean_text(time), _TIME_FORMATS)
    if clock is None:
        return day.date().isoformat()
    return dt.datetime.combine(day.date(), clock.time()).isoformat()


def parse_datetime(text: Any) -> str | None:
    """ISO 8601 from a single date-time string (``2018:11:15 19:42:31``, ``Tue Oct 18 18:18:46 2011``)."""
    value = clean_text(text)
    if value is None:
        return None
    formats = ("%Y:%m:%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%a %b %d %H:%M:%S %Y")
    parsed = _parse_with(value, formats)
    return parsed.isoformat() if parsed else None


def _parse_with(text: str | None, formats: Iterable[str]) -> dt.datetime | None:
    if text is None:
        return None
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def jsonable(obj: Any, limit: int = RAW_METADATA_LIMIT) -> dict[str, Any]:
    """A JSON-serialisable copy of a metadata mapping, at most about *limit* characters of JSON.

    numpy scalars become numbers, small arrays lists, big arrays a short description, bytes text (or a
    length), datetimes ISO strings; long strings are cut. Keys are kept in order until the budget is
    spent, then a ``"…"`` entry says what was dropped — one huge tag must never bloat a project file.
    """
    budget = [limit]
    result = _convert(obj if isinstance(obj, dict) else {"value": obj}, budget, 0)
    return result if isinstance(result, dict) else {"value": result}


def _convert(obj: Any, budget: list[int], depth: int) -> Any:
    if isinstance(obj, dict):
        return _convert_dict(obj, budget, depth)
    if isinstance(obj, (list, tuple)):
        if len(obj) > _ARRAY_LIMIT:
            return f"<sequence of {len(obj)} items>"
        return [_convert(item, budget, depth + 1) for item in obj]
    leaf = _leaf(obj)
    budget[0] -= len(json.dumps(leaf, ensure_ascii=False)) + 2
    return leaf


def _convert_dict(obj: dict[Any, Any], budget: list[int], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if depth > 20:
        return {"…": "nested too deep"}
    for key, value in obj.items():
        if budget[0] <= 0:
            out["…"] = f"truncated: {len(obj) - len(out)} more entries dropped (metadata over 64 KB)"
            break
        budget[0] -= len(str(key)) + 4
        out[str(key)] = _convert(value, budget, depth + 1)
    return out


def _leaf(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, np.generic):
        return _leaf(obj.item())
    if isinstance(obj, np.ndarray):
        return _array_leaf(obj)
    if isinstance(obj, (dt.datetime, dt.date, dt.time)):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return _bytes_leaf(obj)
    text = str(obj)
    if len(text) > _STRING_LIMIT:
        return text[:_STRING_LIMIT] + f"…[truncated, {len(text)} characters]"
    return text


def _array_leaf(arr: np.ndarray) -> Any:
    if arr.size <= _ARRAY_LIMIT and arr.dtype.kind in "biuf":
        return [_leaf(v) for v in arr.ravel().tolist()] if arr.ndim else _leaf(arr.item())
    return f"<array shape={list(arr.shape)} dtype={arr.dtype}>"


def _bytes_leaf(data: bytes) -> Any:
    if len(data) <= _STRING_LIMIT:
        try:
            text = data.decode("utf-8").strip("\x00")
        except UnicodeDecodeError:
            text = None
        if text is not None and text.isprintable():
            return text
    return f"<{len(data)} bytes>"


def dig(tree: Any, *keys: str) -> Any:
    """``tree[k1][k2]…`` or ``None`` when any level is missing (metadata trees are ragged)."""
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def distinct_y(x: float | None, y: float | None) -> float | None:
    """*y* only where it differs from *x* (``InstrumentMetadata.pixel_size_y_nm`` convention)."""
    if x is None or y is None or abs(x - y) <= 1e-6 * abs(x):
        return None
    return y
