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
    seen, sorted; points without a value in a dimmed grey.

    One pass over the values in C numbers each in order of first appearance (a dict that numbers what it has
    not seen yet); the few distinct values are then put in palette order and the numbers renumbered by a table.
    """
    found, rows = _rows(index, values)
    seen = _FirstSeen()
    seen_codes = np.fromiter(map(seen.__getitem__, values.values()), np.int64, len(values))
    names = sorted(
        {str(v) for v in seen if v is not None},
        key=lambda v: (v not in classes, classes.index(v) if v in classes else 0, v),
    )
    code_of_name = {name: k for k, name in enumerate(names)}
    none = len(names)
    renumber = np.array([none if v is None else code_of_name[str(v)] for v in seen], np.uint16)
    codes = np.full(len(index.ids), none, np.uint16)
    colours = [color_for(name, classes) for name in names]
    if found.all():  # every value is on the map (ids are unique): its distinct values are the ones present
        codes[rows] = renumber[seen_codes]
        present = np.zeros(none + 1, np.bool_)
        present[renumber] = True
        present[none] |= len(values) < len(codes)
        entries = _legend(present, names, colours)
    else:
        codes[rows[found]] = renumber[seen_codes[found]]
        entries = _entries(codes, names, colours)
    return Colouring(codes, _rgba([*colours, NONE_COLOUR]), entries, names=tuple(names))


class _FirstSeen(dict[Any, int]):
    """``d[value]``: the value's number in order of first appearance (a new value gets the next one)."""

    def __missing__(self, value: Any) -> int:
        code = self[value] = len(self)
        return code


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
    return _legend(np.bincount(codes, minlength=len(names) + 1) > 0, names, colours)


def _legend(present: np.ndarray, names: list[str], colours: list[QColor]) -> list[tuple[str, QColor]]:
    """Legend entries of the codes ``present`` (the last one: no value)."""
    entries = [(name, colours[k]) for k, name in enumerate(names) if present[k]]
    if present[len(names)]:
        entries.append(("(none)", NONE_COLOUR))
    return entries


def numeric(index: RowIndex, values: Mapping[int, Any]) -> Colouring:
    """Colour by number on a ramp from the 1st to the 99th percentile (outliers do not wash the rest out).

    The per-point arithmetic runs in place on one array (each fresh 8 MB temporary at 1M points costs page
    faults as well as the pass)."""
    found, rows = _rows(index, values)
    level = np.full(len(index.ids), np.nan)
    floats = _floats(values)
    if found.all():
        level[rows] = floats
    else:
        level[rows[found]] = floats[found]
    finite = np.isfinite(level)
    every = bool(finite.all())
    if not every and not finite.any():
        return Colouring(np.full(len(level), RAMP_STEPS, np.uint16), _rgba([*_RAMP, NONE_COLOUR]),
                         [("(no values)", QColor(UNLABELLED))], level)  # fmt: skip
    lo, hi = np.percentile(_sample(level if every else level[finite]), [1, 99])
    if hi > lo:  # (level - lo) / (hi - lo) clipped to [0, 1], in place; NaN stays NaN
        np.subtract(level, lo, out=level)
        np.divide(level, hi - lo, out=level)
        np.clip(level, 0, 1, out=level)
    else:
        level[finite] = 0.5
    steps = level * (RAMP_STEPS - 1)
    np.rint(steps, out=steps)
    if not every:
        steps[~finite] = RAMP_STEPS
    codes = steps.astype(np.uint16)
    entries = [(f"{lo:.4g}", ramp(0.0)), (f"{(lo + hi) / 2:.4g}", ramp(0.5)), (f"{hi:.4g}", ramp(1.0))]
    if not every:
        entries.append(("(none)", NONE_COLOUR))
    return Colouring(codes, _rgba([*_RAMP, NONE_COLOUR]), entries, level)


_RAMP = [ramp(k / (RAMP_STEPS - 1)) for k in range(RAMP_STEPS)]


def _sample(values: np.ndarray, most: int = 200_000) -> np.ndarray:
    """An evenly strided sample: the ramp's ends need not be exact percentiles, and a full one costs 40 ms at 1M."""
    return values[:: max(1, len(values) // most)]


def _rows(index: RowIndex, values: Mapping[int, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Whether each key is on the map, and its row (in key order)."""
    return index.lookup(np.fromiter(values.keys(), np.int64, len(values)))


def _floats(values: Mapping[int, Any]) -> np.ndarray:
    """The values as floats (no value: NaN), in C: ``fromiter`` takes numbers; ``None`` or text need ``array``."""
    try:
        return np.fromiter(values.values(), np.float64, len(values))
    except (TypeError, ValueError):
        pass
    vals = list(values.values())
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
