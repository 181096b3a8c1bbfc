"""Screenshot of the Plates tab at 1600×1000 (offscreen): a 96-well plate in keyboard-scoring mode.

    python scripts/screenshots_plates.py [OUT_DIR] [--images DIR]

The plate is made in a temporary folder: 90 of 96 wells imaged, 2 drops, 3 inspection dates. Drop images are
generated, or copies (randomly cropped and flipped) of the JPEGs in ``--images DIR`` named after wells — for a
local screenshot only; never commit third-party images. Predictions are random demo values (model ``demo``),
not MARCO's; 30 wells are then scored with the keyboard as a user would, in review order.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import pump, settle

DAYS = ("2024-03-01", "2024-03-04", "2024-03-11")
CLASSES = ("clear", "crystals", "precipitate", "other")


def drop_image(rng: np.random.Generator, sources: list[Image.Image]) -> Image.Image:
    """A drop-like picture: a crop of a real drop when given, else a bright disc with a few 'crystals'."""
    if sources:
        src = sources[int(rng.integers(len(sources)))]
        w, h = src.size
        s = int(min(w, h) * rng.uniform(0.7, 0.95))
        x, y = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
        img = src.crop((x, y, x + s, y + s)).resize((320, 320))
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else img
    yy, xx = np.mgrid[:240, :320]
    img = rng.integers(30, 60, (240, 320, 3)).astype(np.uint8)
    img[(yy - 120) ** 2 + (xx - 160) ** 2 < 90**2] = rng.integers(150, 230, 3).astype(np.uint8)
    for _ in range(int(rng.integers(0, 4))):
        cx, cy = rng.integers(110, 210), rng.integers(70, 170)
        img[cy - 6 : cy + 6, cx - 10 : cx + 10] = (240, 250, 255)
    return Image.fromarray(img)


def make_plate(root: Path, sources: list[Image.Image]) -> list[str]:
    wells = [f"{chr(65 + r)}{c + 1:02d}" for r in range(8) for c in range(12)]
    missing = {"C04", "D09", "E01", "F12", "G06", "H03"}
    for d, day in enumerate(DAYS):
        for well in wells:
            if well in missing:
                continue
            for drop in (1, 2):
                path = root / "XTAL-0042" / day / f"{well}_{drop}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                drop_image(np.random.default_rng(zlib.crc32(f"{well}/{drop}/{d}".encode())), sources).save(
                    path, quality=88
                )
    return [w for w in wells if w not in missing]


def predict(project) -> None:
    from micview.core.plates import project_plates
    from micview.core.store.annotations import Prediction

    rng = np.random.default_rng(3)
    preds = []
    for d in project_plates(project, "generic").plate("XTAL-0042").drops:
        p = rng.dirichlet((2.0, 0.6 + 0.4 * DAYS.index(d.time), 1.2, 0.5))
        top = int(np.argmax(p))
        preds.append(
            Prediction(d.image_id, CLASSES[top], float(p[top]), dict(zip(CLASSES, map(float, p), strict=True)))
        )
    project.labels.add_predictions("outcome", preds, model_id="demo")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="screenshots")
    parser.add_argument("--images", type=Path, help="folder of drop JPEGs to copy under well names (local only)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="micview-plates-"))
    os.environ["MICVIEW_CONFIG_DIR"] = str(tmp / "config")
    sources = [Image.open(p).convert("RGB") for p in sorted(args.images.glob("*.jpg"))] if args.images else []
    make_plate(tmp / "plates", sources)

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from micview.gui.app import create_app
    from micview.gui.settings import use_ini_folder

    use_ini_folder(tmp / "settings")
    app = create_app([])
    from micview.gui.main_window import MainWindow

    w = MainWindow()
    w.resize(1600, 1000)
    w.show()
    job = w.ctl.project.new_from_folder(tmp / "plates")
    pump(app, lambda: job is not None and job.done, 300)
    predict(w.project)
    w.jobs_dock.hide()
    w.side_dock.hide()  # the plate gets the width (View ▸ Details brings the dock back)
    w.central_tabs.setCurrentWidget(w.plate_view)
    view = w.plate_view
    view.reload()
    view.review.order_combo.setCurrentText("Review order")
    view.set_scoring(True)
    for k in [2, 2, 1, 3, 2, 4, 1, 1, 3, 2] * 3:
        QTest.keyClick(view.grid, getattr(Qt.Key, f"Key_{k}"))
    w.resize(1600, 1000)
    settle(app, 0.5)
    path = out / "10-plates-scoring.png"
    w.grab().save(str(path))
    print(path, f"({view.keystrokes} keystrokes scored {sum(s.scored for s in view.states.values())} wells)")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
