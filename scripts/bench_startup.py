"""Time from process start to the first shown main window (goal < 1.5 s), over several fresh processes.

    python scripts/bench_startup.py [--runs 5]

Each run starts ``python -m micview`` with MICVIEW_SMOKE_TEST=1 (offscreen): the app shows its window, prints
the wall-clock moment its window was shown, and quits; this script subtracts the moment it launched the
process (interpreter start and every import included). The whole process, exit included, is timed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def one_run(env: dict[str, str]) -> tuple[float, float]:
    start, t0 = time.perf_counter(), time.time()
    out = subprocess.run([sys.executable, "-m", "micview"],
                         capture_output=True, text=True, env=env, check=True).stdout  # fmt: skip
    wall = time.perf_counter() - start
    shown_at = float(out.split("(at ")[1].split(")")[0])
    return shown_at - t0, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "MICVIEW_SMOKE_TEST": "1", "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "XDG_CONFIG_HOME": tempfile.mkdtemp()}  # fmt: skip
    one_run(env)  # warm the OS file cache, as a second launch would be
    results = [one_run(env) for _ in range(args.runs)]
    shown, wall = [r[0] for r in results], [r[1] for r in results]
    print(
        f"process start → first window shown:         median {statistics.median(shown):.3f} s, max {max(shown):.3f} s"
    )
    print(f"process start → window shown → exit (wall): median {statistics.median(wall):.3f} s, max {max(wall):.3f} s")
    print("goal: < 1.5 s from process start to the first shown window")
    return 0


if __name__ == "__main__":
    sys.exit(main())
