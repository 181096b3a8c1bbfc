"""Generated test images: distinct textures, an exact copy, a re-encoded copy and a 16-bit TIFF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

N_PATTERNS = 10


def pattern(i: int, h: int = 96, w: int = 128) -> np.ndarray:
    """Texture ``i``: gratings of varied angle and period, with blobs, in colour; deterministic."""
    rng = np.random.default_rng(i)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle, period = rng.uniform(0, np.pi), rng.uniform(4, 30)
    grating = np.sin((x * np.cos(angle) + y * np.sin(angle)) * 2 * np.pi / period)
    blobs = sum(np.exp(-((x - rng.uniform(0, w)) ** 2 + (y - rng.uniform(0, h)) ** 2) / rng.uniform(20, 300))
                for _ in range(6))  # fmt: skip
    base = 0.5 + 0.3 * grating + 0.4 * blobs
    colour = rng.uniform(0.4, 1.0, 3)
    return (np.clip(base[..., None] * colour, 0, 1) * 255).astype(np.uint8)


def write_images(folder: Path) -> Path:
    """10 textures as PNG (``pattern_00.png`` ...), ``copy_of_00.png`` (same bytes as ``pattern_00``),
    ``pattern_00_q90.jpg`` (re-encoded), ``gray16.tif`` (uint16, narrow range) and ``gray16_as8.png``
    (the same picture stretched to 8 bits, as the viewer shows it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(N_PATTERNS):
        Image.fromarray(pattern(i, 96 + 8 * i, 128)).save(folder / f"pattern_{i:02d}.png")
    (folder / "copy_of_00.png").write_bytes((folder / "pattern_00.png").read_bytes())
    Image.fromarray(pattern(0, 96, 128)).save(folder / "pattern_00_q90.jpg", quality=90)
    gray = pattern(42, 100, 100)[..., 0].astype(np.float32) / 255
    tifffile.imwrite(folder / "gray16.tif", (1000 + 200 * gray).astype(np.uint16))
    from micview.core.imaging import read_display

    Image.fromarray(read_display(folder / "gray16.tif")).save(folder / "gray16_as8.png")
    return folder
