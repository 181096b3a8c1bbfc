"""Legibility: at least 20 colours a user can tell apart on the dark background, and captions that keep what
tells files apart."""

from __future__ import annotations

import itertools

import numpy as np

from micview.gui.palette import N_COLOURS, UNLABELLED, category_color, color_for


def _lab(hex_colours: list[str]) -> np.ndarray:
    from skimage.color import rgb2lab

    rgb = np.array([[int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)] for h in hex_colours])
    return rgb2lab(rgb[None])[0]


def test_twenty_and_more_distinguishable_colours() -> None:
    from skimage.color import deltaE_ciede2000

    colours = [category_color(i).name() for i in range(N_COLOURS)]
    assert N_COLOURS >= 20 and len(set(colours)) == N_COLOURS
    lab = _lab([*colours, UNLABELLED, "#17181b"])
    closest = min(deltaE_ciede2000(lab[i], lab[j]) for i, j in itertools.combinations(range(len(lab)), 2))
    assert closest > 15  # ΔE00 ≈ 2 is "just noticeable"; > 15 is a different colour at a glance
    assert all(lightness > 40 for lightness in lab[:N_COLOURS, 0])  # none too dark on the #17181b background


def test_a_class_keeps_its_colour() -> None:
    classes = [f"class {i}" for i in range(30)]
    assert color_for("class 3", classes) == category_color(3)
    assert color_for(None, classes).name() == UNLABELLED.lower()
    assert color_for("unknown", classes) == color_for("unknown", classes)


def test_captions_keep_what_tells_files_apart(qtbot) -> None:
    from PySide6.QtGui import QFont, QFontMetrics

    from micview.gui.browser.delegate import caption

    fm = QFontMetrics(QFont())
    assert caption("000001.jpg", fm, 1000) == "000001.jpg"
    width = fm.horizontalAdvance("000001") + 2
    assert caption("000001.jpg", fm, width) == "000001"  # the extension goes first
    tight = caption("plate-B07_well-A12_drop1_2024-03-11.tif", fm, 64)
    assert tight.endswith("11") and "…" in tight and fm.horizontalAdvance(tight) <= 64
