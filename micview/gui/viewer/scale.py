"""Display levels, scale-bar lengths and calibrated units for the viewer (Qt-free)."""

from __future__ import annotations

import math

import numpy as np

from micview.core.imaging.display import display_levels  # the to_display rule itself, not a copy

LOW, HIGH = 0.5, 99.5


def percentile_levels(arr: np.ndarray) -> tuple[float, float]:
    """Display levels for ``arr``: full range for uint8 (kept as stored), else the percentile stretch."""
    if arr.dtype == np.uint8:
        return 0.0, 255.0
    lo, hi = display_levels(np.abs(arr) if np.iscomplexobj(arr) else arr, LOW, HIGH)
    if lo is None or hi is None:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def nice_length(span: float) -> float:
    """A 1/2/5 × 10^k length near a fifth of ``span`` (for the scale bar)."""
    target = span / 5
    power = 10 ** math.floor(math.log10(target))
    return next(m * power for m in (5, 2, 1) if m * power <= target)


def length_text(nm: float) -> str:
    """A length in nanometres as a microscopist writes it: 850 nm, 12.5 µm, 1.2 mm, 0.21 nm."""
    for unit, size in (("mm", 1e6), ("µm", 1e3), ("nm", 1.0)):
        if abs(nm) >= size or unit == "nm":
            return f"{nm / size:.4g} {unit}"
    return f"{nm:.4g} nm"


def value_text(value: object) -> str:
    """A pixel value: integers as they are, floats to 5 significant digits, RGB as a triple."""
    arr = np.asarray(value)
    if arr.ndim:
        return "(" + ", ".join(value_text(v) for v in arr.tolist()) + ")"
    if np.iscomplexobj(arr):
        return f"{complex(arr):.4g}"
    if np.issubdtype(arr.dtype, np.integer):
        return str(int(arr))
    return f"{float(arr):.5g}"
