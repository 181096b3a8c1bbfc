"""Benchmark: open a project with 100k images and list them (what the GUI does at start-up).

    python scripts/bench_project.py --n 100000

Baseline in the same run: reading the same rows with a bare sqlite3 cursor (no micview objects).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from micview.core.store import Project


def build(path: Path, n: int) -> None:
    with Project.create(path) as p, p.transaction() as con:
        now = "2026-01-01T00:00:00+00:00"
        con.executemany(
            "INSERT INTO images (path, name, folder, content_hash, size_bytes, mtime, status, format, width, "
            "height, frames, channels, dtype, bit_depth, mode, pixel_size_nm, voltage_kv, detector, metadata_json, "
            "added_at, updated_at) VALUES (?,?,?,?,?,?,'ok','TIFF',1024,768,1,1,'uint16',16,'I;16',?,?,?,?,?,?)",
            (
                (f"run{i // 1000:03d}/img{i:06d}.tif", f"img{i:06d}.tif", f"run{i // 1000:03d}", f"{i:032x}",
                 2_000_000, 1.7e9 + i, 1.5 + i % 7, 5.0, "ETD", '{"FEI": {"HV": 5000}}' * 20, now, now)
                for i in range(n)
            ),
        )  # fmt: skip
        con.executemany("INSERT INTO annotations (image_id, task, label, source, created_at) VALUES (?,?,?,?,?)",
                        ((i + 1, "technique", "SEM", "user", now) for i in range(0, n, 3)))  # fmt: skip


def big_window(n: int, prefix: str) -> tuple[Any, Any, Path]:
    """(app, main window at 1280×800 showing a project of ``n`` images, its temporary folder), isolated from the
    user's settings, models and caches: what the GUI benchmarks measure against."""
    import os

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["MICVIEW_CONFIG_DIR"] = str(tmp / "config")
    os.environ["MICVIEW_CACHE_DIR"] = str(tmp / "cache")
    from micview.gui.app import create_app
    from micview.gui.settings import use_ini_folder

    use_ini_folder(tmp / "settings")
    path = tmp / "big.micview"
    build(path, n)
    app = create_app([])
    from micview.gui.main_window import MainWindow

    w = MainWindow()
    w.resize(1280, 800)
    w.show()
    w.session.set_project(Project.open(path))
    return app, w, tmp


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.micview"
        build(path, args.n)
        best_mic = best_raw = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            with Project.open(path) as p:
                rows = p.images.all()
                labels = p.labels.labels("technique")
            best_mic = min(best_mic, time.perf_counter() - t)
            t = time.perf_counter()
            con = sqlite3.connect(path)
            raw = con.execute("SELECT id, path, width, height FROM images").fetchall()
            con.close()
            best_raw = min(best_raw, time.perf_counter() - t)
        assert len(rows) == len(raw) == args.n and len(labels) == (args.n + 2) // 3
    print(f"rows: {args.n}")
    print(f"micview Project.open + images.all() + labels: {best_mic * 1000:7.1f} ms (best of {args.repeat})")
    print(f"bare sqlite3 SELECT of 4 columns           : {best_raw * 1000:7.1f} ms")
    print(f"ratio micview / bare                        : {best_mic / best_raw:.2f}x")


if __name__ == "__main__":
    main()
