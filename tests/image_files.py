"""Small distinct image files for the import tests (a plain module: the GUI tests import it too)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def save_image(path: Path, seed: int) -> Path:
    """A 32×24 RGB PNG of noise from ``seed`` (distinct seeds, distinct content hashes); folders made as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path)
    return path
