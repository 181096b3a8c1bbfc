"""Tiny drop images laid out as imagers name them, written on the fly (no binary fixtures)."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def write_drop(path: Path, seed: int, size: tuple[int, int] = (96, 72)) -> Path:
    """A small JPEG with a bright disc (a 'drop') on a darker well; content differs per seed."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 < (min(h, w) / 3) ** 2
    img = rng.integers(20, 60, (h, w, 3)).astype(np.uint8)
    img[disc] = rng.integers(150, 255, 3).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path, quality=90)
    return path


def write_plate(root: Path, plate: str = "plateA", wells: tuple[str, ...] = ("A01", "A02", "B01", "H12")) -> Path:
    """``root/<plate>/<date>/<well>_<drop>.jpg`` for two drops and two imaging dates (generic naming)."""
    seed = 0
    for day in ("2024-01-05", "2024-01-12"):
        for well in wells:
            for drop in (1, 2):
                seed += 1
                write_drop(root / plate / day / f"{well}_{drop}.jpg", seed)
    return root


def write_plate_series(
    root: Path, plate: str, wells: list[str], *, drops: int = 1, days: tuple[str, ...] = ("2024-01-05",)
) -> list[Path]:
    """``root/<plate>/<day>/<well>_<drop>.jpg`` for every well, drop and day given (generic naming)."""
    out = []
    for day in days:
        for well in wells:
            for drop in range(1, drops + 1):
                seed = zlib.crc32(f"{plate}/{day}/{well}/{drop}".encode())
                out.append(write_drop(root / plate / day / f"{well}_{drop}.jpg", seed, (48, 36)))
    return out


def all_wells(rows: int = 8, cols: int = 12) -> list[str]:
    """Every well of a plate, row-major: A1 … H12 for 96 wells."""
    return [f"{chr(ord('A') + r)}{c + 1:02d}" for r in range(rows) for c in range(cols)]
