"""Colours shared by the thumbnail chips, the scatter and its legend, so a class looks the same everywhere."""

from __future__ import annotations

import itertools

from PySide6.QtGui import QColor

# 24 categorical colours, readable on the dark background: Okabe–Ito's colour-blind-safe seven first, then 17
# picked greedily in CIELAB (lightness 42–88, chroma > 30) to be as far as possible (CIEDE2000) from every colour
# before them and from the greys of unlabelled points and the background; the closest pair is ΔE00 ≈ 17
# (tests/gui/test_palette.py checks it). Cycles beyond 24.
_QUALITATIVE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#696900",
    "#00F04B", "#D2003C", "#78F0E1", "#B400FF", "#FFB4A5", "#87A52D", "#E1C3FF", "#A53C78",
    "#7878FF", "#0F781E", "#875A2D", "#C3E1A5", "#008796", "#F06969", "#8769A5", "#FF4BFF",
)  # fmt: skip
N_COLOURS = len(_QUALITATIVE)
UNLABELLED = "#9AA0A6"
SELECTED = "#FF3B30"
RESULT = "#FFB000"
ACCENT = "#2F6FDE"


def category_color(index: int) -> QColor:
    return QColor(_QUALITATIVE[index % len(_QUALITATIVE)])


def color_for(value: str | None, classes: list[str]) -> QColor:
    """Colour of ``value`` within the ordered ``classes`` (unknown values get a stable hashed colour)."""
    if value is None:
        return QColor(UNLABELLED)
    if value in classes:
        return category_color(classes.index(value))
    return category_color(len(classes) + sum(map(ord, value)))


def ramp(t: float) -> QColor:
    """A perceptually ordered ramp (viridis-like) for numeric columns; ``t`` in [0, 1]."""
    stops = ((0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)), (0.75, (94, 201, 98)),
             (1.0, (253, 231, 37)))  # fmt: skip
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in itertools.pairwise(stops):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return QColor(*(round(a + (b - a) * f) for a, b in zip(c0, c1, strict=True)))
    return QColor(*stops[-1][1])
