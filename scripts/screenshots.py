"""Screenshots of the window's states at exactly the given size (offscreen), from real data when given.

    python scripts/screenshots.py OUT [--data DIR] [--size 1280x800] [--readme] [--umap]

With ``--data DIR`` (a folder holding ``miclib/`` — images + manifest.csv with technique and category —
``formats/`` and ``crystals/``): the browser with the real labels, the map coloured by the 20-class technique
task, a selection, a filter, search results, the viewer on a calibrated 16-bit TIFF and on a DM3, Classify after
a run and an evaluation, VQA, Analysis and the Quality view, plates, jobs running, the files that could not be
imported (a named pipe dropped among them) and the report of a label CSV with rows that disagree. Without it: the
same states where they make sense, on the generated sample. Every project, setting and
cache lives in a temporary folder: no file of the checkout (nor of DIR) changes; ``--readme`` also writes
resources/screenshot-main.png. Exits 1 when a picture does not have the requested size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pump(app, until: Callable[[], bool], timeout: float = 300.0) -> None:
    """Run the event loop until ``until()`` is true (the script drives the app like a user would)."""
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    pump(app, lambda: time.monotonic() > end)


def wait_job(app, job, timeout: float = 900.0) -> None:
    if job is None:
        raise RuntimeError("the job did not start (see the window's last error)")
    pump(app, lambda: job.done, timeout)
    if job.state != "done":
        raise RuntimeError(f"{job.title}: {job.state} {job.error}")


class Shots:
    """Saves grabs of the window (or a widget composed over it) and checks their size."""

    def __init__(self, app, out: Path, size: tuple[int, int]) -> None:
        self.app, self.out, self.size = app, out, size
        self.wrong: list[str] = []
        self.saved: list[Path] = []

    def save(self, name: str, widget, over=None) -> Path:
        """Grab ``widget``; ``over`` (a dialog) is painted centred on it, as the user sees it."""
        settle(self.app)
        pixmap = widget.grab()
        if over is not None:
            _paint_dialog(pixmap, over)
        path = self.out / f"{name}.png"
        pixmap.save(str(path))
        got = (pixmap.width(), pixmap.height())
        if got != self.size:
            self.wrong.append(f"{path.name}: {got[0]}×{got[1]}")
        self.saved.append(path)
        print(f"{path}  {got[0]}×{got[1]}", flush=True)
        return path


def _paint_dialog(pixmap, dialog) -> None:
    """Paint ``dialog`` centred on ``pixmap`` with a plain title bar (offscreen windows have no decorations)."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QPainter, QPen

    top, bar = dialog.grab(), 28
    x, y = (pixmap.width() - top.width()) // 2, (pixmap.height() - top.height() - bar) // 2
    painter = QPainter(pixmap)
    painter.fillRect(QRect(x, y, top.width(), bar), QColor("#2a2c31"))
    painter.setPen(QColor("#e3e5e8"))
    painter.drawText(QRect(x + 10, y, top.width() - 20, bar), Qt.AlignmentFlag.AlignVCenter, dialog.windowTitle())
    painter.drawPixmap(x, y + bar, top)
    painter.setPen(QPen(QColor("#55595f"), 1))
    painter.drawRect(QRect(x, y, top.width() - 1, top.height() + bar - 1))
    painter.end()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--data", type=Path, help="folder with miclib/, formats/ and crystals/ (real data)")
    parser.add_argument("--size", default="1280x800", help="window size, WIDTHxHEIGHT (default 1280x800)")
    parser.add_argument("--readme", action="store_true", help="also write resources/screenshot-main.png")
    parser.add_argument("--umap", action="store_true", help="UMAP maps (first run compiles numba: ~1 min)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="micview-shots-"))
    os.environ["MICVIEW_CONFIG_DIR"] = str(tmp / "config")
    os.environ["MICVIEW_CACHE_DIR"] = str(tmp / "cache")

    from micview.gui.app import create_app
    from micview.gui.settings import use_ini_folder

    use_ini_folder(tmp / "settings")
    app = create_app([])
    from micview.gui.main_window import MainWindow

    w = MainWindow()
    w.resize(*size)
    w.scatter.method_combo.setCurrentIndex(w.scatter.method_combo.findData("umap" if args.umap else "pca"))
    shots = Shots(app, args.out, size)
    w.settings.add_recent(tmp / "plate-A12" / "plate-A12.micview")
    w.session.project_changed.emit(None)  # the welcome page re-reads the recent list
    w.show()
    shots.save("01-welcome", w)
    from screenshot_states import RealStates, SampleStates

    states = (RealStates if args.data else SampleStates)(app, w, shots, tmp, args)
    states.run()
    if args.readme and states.readme_shot is not None:
        _save_small(states.readme_shot, ROOT / "resources" / "screenshot-main.png")
    w.close()
    app.processEvents()
    shutil.rmtree(tmp, ignore_errors=True)  # projects, settings and caches of this run
    if shots.wrong:
        print("not at the requested size:", ", ".join(shots.wrong), file=sys.stderr)
        return 1
    return 0


def _save_small(source: Path, target: Path) -> None:
    """README copy: 1120 px wide, 256 colours (octree keeps the class colours; median cut turned orange beige)."""
    from PIL import Image

    img = Image.open(source).convert("RGB")
    img = img.resize((1120, round(img.height * 1120 / img.width)), Image.Resampling.LANCZOS)
    img.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(target, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
