"""Benchmark: how long opening a large project freezes the window, with today's backup due.

    python scripts/bench_open.py --n 100000

The project is bench_safety's (N images with thumbnails of ``--thumb-kb`` KB each), made two days ago and never
backed up, so the first open of the day makes a backup. Each round starts as a first open in a new process would
(no backup yet, the check at open not remembered) and measures, with a 5 ms QTimer on the GUI thread, the longest
gap between its ticks from the request until the project is shown:

* ``sync``  — ``ProjectController.open`` (the open, the check, the backup and the views' reload, all on the GUI
  thread: what the menus did before ``open_async``);
* ``async`` — ``ProjectController.open_async`` (check, backup and any wait in a job; then the open on the GUI
  thread, which is quick, and the views' reload);
* baseline in the same run: ``sync`` with no backup due (the views' reload and a remembered check only).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))
from bench_project import build
from bench_safety import add_thumbnails


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--thumb-kb", type=int, default=8, help="bytes per thumbnail, in KB (real JPEG thumbnails: 5-15)")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from micview.core.store import Project, list_backups
    from micview.core.store import project as project_module
    from micview.gui.main_window import MainWindow

    app = QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.micview"
        build(path, args.n)
        add_thumbnails(path, args.n, args.thumb_kb * 1024)
        with Project.open(path) as p:
            p.set_meta("created_at", "2020-01-01T00:00:00+00:00")
        print(f"rows: {args.n}, file: {path.stat().st_size / 1e6:.0f} MB")
        window = MainWindow()
        window.show()
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer(interval=5)
        timer.timeout.connect(tick)
        timer.start()

        def fresh(backup_due: bool) -> None:
            """As a first open in a new process: nothing remembered; no backup when one is to be due."""
            window.ctl.project.close()
            project_module._checked.clear()
            if backup_due:
                for b in list_backups(path):
                    b.path.unlink()
            app.processEvents()

        def measure(kind: str) -> tuple[float, float]:
            gaps.clear()
            last[0] = t0 = time.perf_counter()
            if kind == "async":
                window.ctl.project.open_async(path)
            else:
                assert window.ctl.project.open(path)
            while window.project is None or window.session.jobs.running():
                app.processEvents()
                time.sleep(0.001)
            app.processEvents()
            tick()
            return max(gaps), time.perf_counter() - t0

        rows: dict[str, list[tuple[float, float]]] = {"sync": [], "async": [], "sync, no backup due": []}
        for _ in range(args.repeat):
            for kind in ("sync", "async"):
                fresh(backup_due=True)
                rows[kind].append(measure(kind))
                assert [b.reason for b in list_backups(path)] == ["daily"]
            fresh(backup_due=False)
            project_module._checked.clear()
            rows["sync, no backup due"].append(measure("sync"))
        timer.stop()
        window.close()
        base = min(g for g, _ in rows["sync, no backup due"])
        for kind, got in rows.items():
            freeze, total = min(g for g, _ in got), min(t for _, t in got)
            print(f"{kind:22s}: longest freeze {freeze * 1000:7.0f} ms ({freeze / base:4.1f}x the baseline), "
                  f"until shown {total * 1000:7.0f} ms (best of {args.repeat})")  # fmt: skip


if __name__ == "__main__":
    main()
