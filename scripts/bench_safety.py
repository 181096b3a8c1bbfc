"""Benchmark: what project safety costs on a 100k-image project with thumbnails.

    python scripts/bench_safety.py --n 100000

* open with the quick check at open (its time budget) vs a bare ``sqlite3.connect`` + one query (baseline);
* the full ``micview check`` (integrity_check + schema + foreign keys) and an unbounded quick_check;
* ``copy_project`` (online backup API) vs ``shutil.copyfile`` of the same file (baseline);
* ``salvage`` of the same project.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_project import build

from micview.core.store import Project, check_project, copy_project, salvage
from micview.core.store import project as project_module
from micview.core.store.integrity import quick_health


def add_thumbnails(path: Path, n: int, size: int) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN")
    blob = bytes(range(256)) * (size // 256)
    con.executemany("INSERT INTO thumbnails VALUES (?, 256, 192, 'jpeg', ?)", ((i, blob) for i in range(1, n + 1)))
    con.execute("COMMIT")
    con.close()


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--thumb-kb", type=int, default=8, help="bytes per thumbnail, in KB (real JPEG thumbnails: 5-15)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.micview"
        build(path, args.n)
        add_thumbnails(path, args.n, args.thumb_kb * 1024)
        print(f"rows: {args.n}, file: {path.stat().st_size / 1e6:.0f} MB")

        def bare() -> None:
            con = sqlite3.connect(path)
            con.execute("SELECT count(*) FROM meta").fetchone()
            con.close()

        def checked_open() -> None:
            project_module._checked.clear()  # a first open in this process: the check runs
            with Project.open(path) as p:
                report = p.health
            assert report.ok

        def unbounded() -> None:
            con = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)
            assert quick_health(con, path, None).complete
            con.close()

        t_bare, t_open = best(bare, args.repeat), best(checked_open, args.repeat)
        print(f"bare sqlite3 open + 1 query           : {t_bare * 1000:8.1f} ms")
        print(f"Project.open with its quick check     : {t_open * 1000:8.1f} ms "
              f"(budget {project_module.OPEN_CHECK_BUDGET_S * 1000:.0f} ms)")  # fmt: skip
        project_module._checked.clear()
        with Project.open(path) as p:
            done, left = len(p.health.checked), len(p.health.unchecked)
        print(f"  tables checked within that budget   : {done} of {done + left} (the next opens go on with the rest)")
        print(f"quick_check of every table, no budget : {best(unbounded, args.repeat) * 1000:8.1f} ms")
        t = time.perf_counter()
        assert check_project(path).ok
        print(f"micview check (full integrity_check)  : {(time.perf_counter() - t) * 1000:8.1f} ms")

        dest = Path(tmp) / "copy.micview"
        raw = Path(tmp) / "raw.micview"
        t_copy = best(lambda: copy_project(path, dest, overwrite=True), args.repeat)
        t_raw = best(lambda: shutil.copyfile(path, raw), args.repeat)
        print(f"copy_project (online backup API)      : {t_copy * 1000:8.1f} ms")
        print(f"shutil.copyfile of the same file      : {t_raw * 1000:8.1f} ms   ratio {t_copy / t_raw:.2f}x")
        raw.unlink()
        t = time.perf_counter()
        report = salvage(path, Path(tmp) / "salvaged.micview")
        print(f"salvage (every row, then a full check): {(time.perf_counter() - t) * 1000:8.1f} ms, "
              f"complete: {report.complete}")  # fmt: skip


if __name__ == "__main__":
    main()
