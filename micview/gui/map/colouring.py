"""A column's values -> one small integer code per map point and a colour table (LUT).

Why codes and a LUT: colouring a million points is then a table lookup; the old per-point brush list cost
0.66 s at 100k points. The column arrives as today's ``{image id: value}`` dict; turning it into codes costs one
pass in C (``map`` over a dict of the distinct values), never a Python statement per point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PySide6.QtGui import QColor

from micview.gui.map.point_index import RowIndex
from micview.gui.palette import UNLABELLED, color_for, ramp

RAMP_STEPS = 64
NONE_COLOUR = QColor(UNLABELLED).darker(130)


@dataclass(frozen=True)
class Colouring:
    """Colours of the map's points: ``lut[codes[row]]`` is row's RGBA; the last LUT entry means "no value".

    ``level`` is, for a numeric column, each row's position on the ramp in [0, 1] (NaN without a value), which
    the zoomed-out picture averages per screen bin; ``None`` for classes. ``names`` are, for classes, the value
    each code stands for (so points added later can be coloured without reading the column again).
    """

    codes: np.ndarray  # uint16 per row
    lut: np.ndarray  # (k + 1, 4) uint8 RGBA
    entries: list[tuple[str, QColor]] = field(default_factory=list)  # legend
    level: np.ndarray | None = None
    names: tuple[str, ...] = ()

    @property
    def none(self) -> int:
        return len(self.lut) - 1

    @property
    def numeric(self) -> bool:
        return self.level is not None


def plain(n: int) -> Colouring:
    """Every point in the neutral colour (no column chosen)."""
    return Colouring(np.zeros(n, np.uint16), _rgba([QColor(UNLABELLED), NONE_COLOUR]))


def categorical(index: RowIndex, values: Mapping[int, Any], classes: list[str]) -> Colouring:
    """Colour by class: ``classes`` in their order first (the palette the label bar uses), then any other value
    seen, sorted; points without a value in a dimmed grey."""
    found, rows, vals = _unpack(index, values)
    distinct = {v for v in set(vals) if v is not None}
    names = sorted(
        {str(v) for v in distinct}, key=lambda v: (v not in classes, classes.index(v) if v in classes else 0, v)
    )
    code_of_name = {name: k for k, name in enumerate(names)}
    none = len(names)
    code_of = {v: code_of_name[str(v)] for v in distinct} | {None: none}
    value_codes = np.fromiter(map(code_of.__getitem__, vals), np.uint16, len(vals))
    codes = np.full(len(index.ids), none, np.uint16)
    codes[rows[found]] = value_codes[found]
    colours = [color_for(name, classes) for name in names]
    return Colouring(codes, _rgba([*colours, NONE_COLOUR]), _entries(codes, names, colours), names=tuple(names))


def appended(colouring: Colouring, values: Sequence[Any]) -> Colouring | None:
    """``colouring`` with a row more per value (points added to the map; ``None``: no value), or ``None`` when a
    value has no colour there yet — a class it has not seen, or any number (the ramp's ends could move): then
    the whole column is coloured again. Costs one pass over the codes (the legend), not a read of the column."""
    if colouring.numeric:
        if any(v is not None for v in values):
            return None
        level = np.concatenate([colouring.level, np.full(len(values), np.nan)])
        codes = np.concatenate([colouring.codes, np.full(len(values), colouring.none, np.uint16)])
        return replace(colouring, codes=codes, level=level)
    if not colouring.names and len(colouring.lut) == 2:  # plain: one colour whatever the value
        return replace(colouring, codes=np.concatenate([colouring.codes, np.zeros(len(values), np.uint16)]))
    code_of = {name: k for k, name in enumerate(colouring.names)}
    if any(v is not None and str(v) not in code_of for v in values):
        return None
    new = np.fromiter((colouring.none if v is None else code_of[str(v)] for v in values), np.uint16, len(values))
    codes = np.concatenate([colouring.codes, new])
    colours = [QColor(*(int(c) for c in rgba)) for rgba in colouring.lut[:-1]]
    return replace(colouring, codes=codes, entries=_entries(codes, list(colouring.names), colours))


def _entries(codes: np.ndarray, names: list[str], colours: list[QColor]) -> list[tuple[str, QColor]]:
    """The legend: the classes present, in palette order, then "(none)" when some points have no value."""
    none = len(names)
    present = np.bincount(codes, minlength=none + 1) > 0
    entries = [(name, colours[k]) for k, name in enumerate(names) if present[k]]
    if present[none]:
        entries.append(("(none)", NONE_COLOUR))
    return entries


def numeric(index: RowIndex, values: Mapping[int, Any]) -> Colouring:
    """Colour by number on a ramp from the 1st to the 99th percentile (outliers do not wash the rest out)."""
    found, rows, vals = _unpack(index, values)
    level = np.full(len(index.ids), np.nan)
    level[rows[found]] = _floats(vals)[found]
    finite = np.isfinite(level)
    ramp_lut = [ramp(k / (RAMP_STEPS - 1)) for k in range(RAMP_STEPS)]
    if not finite.any():
        return Colouring(np.full(len(level), RAMP_STEPS, np.uint16), _rgba([*ramp_lut, NONE_COLOUR]),
                         [("(no values)", QColor(UNLABELLED))], level)  # fmt: skip
    lo, hi = np.percentile(_sample(level[finite]), [1, 99])
    level = np.clip((level - lo) / (hi - lo), 0, 1) if hi > lo else np.where(finite, 0.5, np.nan)
    codes = np.full(len(level), RAMP_STEPS, np.uint16)
    codes[finite] = np.rint(level[finite] * (RAMP_STEPS - 1)).astype(np.uint16)
    entries = [(f"{lo:.4g}", ramp(0.0)), (f"{(lo + hi) / 2:.4g}", ramp(0.5)), (f"{hi:.4g}", ramp(1.0))]
    if not finite.all():
        entries.append(("(none)", NONE_COLOUR))
    return Colouring(codes, _rgba([*ramp_lut, NONE_COLOUR]), entries, level)


def _sample(values: np.ndarray, most: int = 200_000) -> np.ndarray:
    """An evenly strided sample: the ramp's ends need not be exact percentiles, and a full one costs 40 ms at 1M."""
    return values[:: max(1, len(values) // most)]


def _unpack(index: RowIndex, values: Mapping[int, Any]) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Whether each key is on the map, its row, and the values in key order."""
    found, rows = index.lookup(np.fromiter(values.keys(), np.int64, len(values)))
    return found, rows, list(values.values())


def _floats(vals: list[Any]) -> np.ndarray:
    try:
        return np.array(vals, np.float64).reshape(len(vals))  # None -> NaN, "1.5" -> 1.5, in C
    except (TypeError, ValueError):
        return np.fromiter(map(_as_float, vals), np.float64, len(vals))


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _rgba(colours: list[QColor]) -> np.ndarray:
    return np.array([c.getRgb() for c in colours], np.uint8).reshape(-1, 4)
