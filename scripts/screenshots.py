"""Screenshots of each state of the window at 1600×1000 (offscreen), for the README and for review.

    python scripts/screenshots.py [OUT_DIR]     # default: screenshots/ (git-ignored)
    python scripts/screenshots.py out --umap    # the map as UMAP (first run compiles numba: ~1 min)

Uses the generated sample (micview.gui.sample_data) in a temporary folder, with the real default model.
Also writes resources/screenshot-main.png (the linked selection state) for the README.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]


def pump(app, until, timeout: float = 300.0) -> None:
    """Run the event loop until ``until()`` is true (the script drives the app like a user would)."""
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    pump(app, lambda: time.monotonic() > end)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="screenshots")
    parser.add_argument("--umap", action="store_true", help="show a UMAP map instead of PCA")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="micview-shots-"))
    os.environ["MICVIEW_CONFIG_DIR"] = str(tmp / "config")

    from micview.gui.app import create_app
    from micview.gui.settings import use_ini_folder

    use_ini_folder(tmp / "settings")
    app = create_app([])
    from micview.gui.main_window import MainWindow
    from micview.gui.sample_data import write_sample

    w = MainWindow()
    w.resize(1600, 1000)
    w.settings.add_recent(tmp / "plate-A12" / "plate-A12.micview")
    w.show_welcome()
    w.show()
    settle(app)
    w.grab().save(str(out / "01-welcome.png"))

    w.scatter.method_combo.setCurrentIndex(w.scatter.method_combo.findData("umap" if args.umap else "pca"))
    write_sample(tmp / "sample", per_kind=16)
    w.open_sample(tmp / "sample")
    pump(app, lambda: len(w.scatter.ids) == 48 and not [j for j in w.jobs.running() if not j.quiet], 600)
    if args.umap:
        pump(app, lambda: getattr(w, "_shown_map_method", "") == "umap", 600)
    w.jobs_dock.hide()
    w.jobs_panel.clear_finished()
    settle(app)
    w.grab().save(str(out / "02-browser.png"))

    _selection_state(app, w, out)
    _search_state(app, w, out)
    _viewer_state(app, w, out)
    _jobs_state(app, w, out)
    w.close()
    return 0


def _selection_state(app, w, out: Path) -> None:
    import numpy as np

    w.scatter.color_combo.setCurrentText("Label: structure")
    lamellae = [r.id for r in w.browser.model.rows if r.folder == "lamellae"]
    xy = w.scatter.xy[np.isin(w.scatter.ids, lamellae)]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = (hi - lo) * 0.1 + 1e-3
    box = np.array([[lo[0] - pad[0], lo[1] - pad[1]], [hi[0] + pad[0], lo[1] - pad[1]],
                    [hi[0] + pad[0], hi[1] + pad[1]], [lo[0] - pad[0], hi[1] + pad[1]]])  # fmt: skip
    from PySide6.QtCore import Qt

    w.scatter.vb.region_selected.emit(box, Qt.KeyboardModifier.NoModifier)
    settle(app)
    path = out / "03-scatter-selection.png"
    w.grab().save(str(path))
    _save_small(path, ROOT / "resources" / "screenshot-main.png")


def _save_small(source: Path, target: Path) -> None:
    """README copy: 1120 px wide, 128-colour palette (UI pixels quantize well), well under 300 KB."""
    from PIL import Image

    img = Image.open(source).convert("RGB")
    img = img.resize((1120, round(img.height * 1120 / img.width)), Image.Resampling.LANCZOS)
    img.quantize(128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(target, optimize=True)


def _search_state(app, w, out: Path) -> None:
    query = next(r for r in w.browser.model.rows if r.folder == "particles")
    w.selection.set([query.id])
    w.search_similar()
    pump(app, lambda: w.results.active)
    settle(app)
    w.grab().save(str(out / "04-search-results.png"))
    w.results.clear()


def _viewer_state(app, w, out: Path) -> None:
    row = next(r for r in w.browser.model.rows if r.dtype == "uint16" and r.folder == "grains")
    w.open_viewer(row.id)
    w.viewer.resize(1600, 1000)
    pump(app, lambda: w.viewer.image.size > 0)
    w.viewer.metadata.expandAll()
    settle(app)
    w.viewer.grab().save(str(out / "05-viewer-16bit.png"))
    w.viewer.close()


def _jobs_state(app, w, out: Path) -> None:
    from micview.core.tasks import Progress

    def long_import():  # a stand-in for a long import: real progress, real cancel button
        for i in range(10_000):
            time.sleep(0.01)
            yield Progress(i, 10_000, f"plate-B07/drop_{i:05d}.tif")

    w.jobs_panel.clear_finished()
    job = w.jobs.start("Import plate-B07", long_import)
    pump(app, lambda: job.progress.done > 2_000 and job.progress.total > 0)
    w.jobs_dock.show()
    settle(app)
    w.grab().save(str(out / "06-jobs-running.png"))
    job.cancel()
    pump(app, lambda: job.done)


if __name__ == "__main__":
    sys.exit(main())
