"""Helpers shared by the VLM tests (constants, generated inputs)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("SEM", "TEM", "AFM")


def random_image(seed: int = 0, h: int = 60, w: int = 80) -> Image.Image:
    return Image.fromarray((np.random.default_rng(seed).random((h, w, 3)) * 255).astype("uint8"))


def write_qa_csv(path: Path, names: list[str]) -> Path:
    """A CSV in the reference project's qa.csv layout (``./miclib_output/images/NAME``, label columns)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["image_local_path", "categories", "technique"])
        for i, name in enumerate(names):
            w.writerow([f"./miclib_output/images/{name}", "Metal or alloy", CLASSES[i % 3]])
    return path
