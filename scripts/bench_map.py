"""The map widget at N points: recolour, box/lasso selection of half the points, hover pick; today's widget
against the one before the density rewrite (scripts/bench_map_baseline.py), in the same run, offscreen.

    python scripts/bench_map.py --n 100000 --n 1000000 [--json OUT] [--repeats 5] [--baseline-repeats 2]

Data: a clustered 2-D map (20 Gaussian blobs, like a UMAP of 20 classes), a categorical column of 20 classes
(two thirds of the points labelled, 10 % of labels off-cluster) and a numeric column; the column values are
prepared dicts, as the Colour-by provider hands them over, so the figures are the widget's own work.

What each figure times (median of ``--repeats``, milliseconds, each ending with the plot drawn into an image,
``plot.grab()``, so the drawing counts):

- ``map_colour_ms``: switch "Colour by" between the categorical and the numeric column, each time from the
  column's values (cold); ``map_colour_label_ms`` and ``map_colour_number_ms`` the same for each kind alone;
  ``map_colour_warm_ms`` switching back to a column already shown (ours keeps each column's colour codes until
  the project's data changes; the baseline recomputes every time).
- ``map_select_ms``: a box over half the points (alternately the left and the bottom half), from the mouse
  release to the selection set and marked; ``map_select_lasso_ms`` the same with a 120-vertex lasso.
- ``map_pick_ms``: one hover pick (the point under the cursor among all points), mean over 300 positions
  spread over the view, half of them on points; ``map_pick_p95_ms`` its 95th percentile.
- ``map_append_ms``: one image added to the shown map (watch mode), drawn; the baseline shows the whole map
  again with the point, as watch mode did before ``append_points``.
- ``set_map_s``: showing a new map (not a goal; for context).

``measure_map(xy)`` returns these for scripts/bench_scale.py (ours only, no baseline: the old widget needs
minutes at 1M points).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

CLASSES = [f"class {k:02d}" for k in range(20)]
GOALS = {"map_colour_ms": 100.0, "map_select_ms": 200.0, "map_pick_ms": 5.0}


def clustered_map(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(xy, cls)``: n points in 20 blobs of different sizes, and each point's blob (its class)."""
    rng = np.random.default_rng(seed)
    centres, scale = rng.uniform(-10, 10, (20, 2)), rng.uniform(0.3, 1.5, 20)
    cls = rng.integers(0, 20, n)
    xy = centres[cls] + rng.standard_normal((n, 2)) * scale[cls, None]
    return xy.astype(np.float32), cls


def columns_for(ids: np.ndarray, cls: np.ndarray, seed: int = 1) -> dict[str, tuple[dict[int, Any], list[str] | None]]:
    """The two colour columns as the GUI's provider returns them: ``{image id: value}`` and the classes."""
    rng = np.random.default_rng(seed)
    off = rng.random(len(ids)) < 0.1
    label = np.where(off, rng.integers(0, 20, len(ids)), cls)
    keep = rng.random(len(ids)) < 2 / 3
    names = np.array(CLASSES, dtype=object)[label[keep]]
    category = dict(zip(ids[keep].tolist(), names.tolist(), strict=True))
    numeric = dict(zip(ids.tolist(), rng.gamma(2.0, 1.5, len(ids)).round(3).tolist(), strict=True))
    return {"Label: class": (category, CLASSES), "Field: size": (numeric, None)}


def _timed(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and median process CPU milliseconds of ``action``."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return round(statistics.median(wall), 1), round(statistics.median(cpu), 1)


def measure_widget(widget: Any, xy: np.ndarray, cls: np.ndarray, repeats: int) -> dict[str, Any]:
    """Figures of one widget (ours or the baseline; both have the same public surface)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    ids = np.arange(1, len(xy) + 1, dtype=np.int64)
    columns = columns_for(ids, cls)
    widget.resize(1000, 700)
    widget.show()
    app.processEvents()
    start = time.perf_counter()
    widget.set_map(ids, xy)
    widget.set_color_options(list(columns), columns.__getitem__, prefer="Label: class")
    widget.plot.grab()
    set_map_s = time.perf_counter() - start
    out: dict[str, Any] = {"set_map_s": round(set_map_s, 2)}

    names = list(columns)
    state = {"k": 0}
    forget = getattr(widget, "forget_colours", lambda: None)  # the baseline keeps no colours

    def recolour(cold: bool) -> Callable[[], None]:
        def run() -> None:
            if cold:
                forget()
            state["k"] += 1
            widget.color_combo.setCurrentText(names[state["k"] % 2])
            widget.plot.grab()

        return run

    out["map_colour_ms"], out["map_colour_cpu_ms"] = _timed(recolour(cold=True), repeats)
    for kind, name, other in (("label", names[0], names[1]), ("number", names[1], names[0])):
        out |= _cold_colour_figures(widget, kind, name, other, forget, repeats)
    out["map_colour_warm_ms"], out["map_colour_warm_cpu_ms"] = _timed(recolour(cold=False), repeats)
    mx, my = np.median(xy[:, 0]), np.median(xy[:, 1])
    lo, hi = xy.min(axis=0) - 1, xy.max(axis=0) + 1
    boxes = [
        np.array([[lo[0], lo[1]], [mx, lo[1]], [mx, hi[1]], [lo[0], hi[1]]], np.float64),
        np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], my], [lo[0], my]], np.float64),
    ]
    selected: list[int] = []

    def select(polygons: list[np.ndarray]) -> Callable[[], None]:
        def run() -> None:
            state["k"] += 1
            widget.vb.region_selected.emit(polygons[state["k"] % 2], Qt.KeyboardModifier.NoModifier)
            widget.plot.grab()
            selected.append(len(widget.session.selection))

        return run

    out["map_select_ms"], out["map_select_cpu_ms"] = _timed(select(boxes), repeats)
    out["selected"] = int(np.median(selected))
    lassos = [_half_lasso(xy, 0.0), _half_lasso(xy, np.pi / 2)]
    selected.clear()
    out["map_select_lasso_ms"], out["map_select_lasso_cpu_ms"] = _timed(select(lassos), repeats)
    out["selected_lasso"] = int(np.median(selected))
    widget.session.selection.clear()
    out |= _pick_figures(widget, xy)
    out |= _append_figures(widget, xy, repeats)
    mode = getattr(getattr(widget, "points", None), "last_mode", "")
    out["drawn_as"] = mode or "ScatterPlotItem"
    return out


def _cold_colour_figures(
    widget: Any, kind: str, name: str, other: str, forget: Callable[[], None], repeats: int
) -> dict[str, float]:
    """``map_colour_{kind}_ms``: "Colour by" switched from ``other`` to ``name``, ``name``'s colours forgotten."""
    walls, cpus = [], []
    for _ in range(repeats):
        widget.color_combo.setCurrentText(other)
        forget()
        start, start_cpu = time.perf_counter(), time.process_time()
        widget.color_combo.setCurrentText(name)
        widget.plot.grab()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - start_cpu) * 1000)
    return {
        f"map_colour_{kind}_ms": round(statistics.median(walls), 1),
        f"map_colour_{kind}_cpu_ms": round(statistics.median(cpus), 1),
    }


def _half_lasso(xy: np.ndarray, angle: float) -> np.ndarray:
    """A 120-vertex wavy closed curve through the middle of the map, holding about half of the points."""
    centre = np.median(xy, axis=0).astype(np.float64)
    radius = float(np.max(np.abs(xy - centre))) * 2
    t = np.linspace(angle - np.pi / 2, angle + np.pi / 2, 118)
    arc = centre + radius * np.c_[np.cos(t), np.sin(t)]
    wave = 0.02 * radius * np.sin(np.linspace(0, 12 * np.pi, 118))[:, None] * np.c_[np.cos(t), np.sin(t)]
    chord = centre + 0.01 * radius * np.array([[np.cos(angle + np.pi / 2), np.sin(angle + np.pi / 2)]])
    return np.vstack([arc + wave, chord, centre - (chord - centre)])


def _pick_figures(widget: Any, xy: np.ndarray) -> dict[str, float]:
    from PySide6.QtCore import QPointF

    rng = np.random.default_rng(3)
    on_points = xy[rng.integers(0, len(xy), 150)].astype(np.float64)
    rect = widget.vb.viewRect()
    anywhere = np.c_[rng.uniform(rect.left(), rect.right(), 150), rng.uniform(rect.top(), rect.bottom(), 150)]
    scene = [widget.vb.mapViewToScene(QPointF(float(x), float(y))) for x, y in np.vstack([on_points, anywhere])]
    times, cpu, hits = [], [], 0
    for pos in scene:
        start, start_cpu = time.perf_counter(), time.process_time()
        hits += widget.pick(pos) is not None
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {
        "map_pick_ms": round(float(np.mean(times)), 3),
        "map_pick_cpu_ms": round(float(np.mean(cpu)), 3),
        "map_pick_p95_ms": round(float(np.percentile(times, 95)), 3),
        "pick_hits": hits,
    }


def _append_figures(widget: Any, xy: np.ndarray, repeats: int) -> dict[str, float]:
    """One image added to the shown map and drawn (watch mode): ours appends the point; a widget without
    ``append_points`` is given the whole map again, as watch mode did before."""
    rng = np.random.default_rng(4)
    state = {"next": int(widget.ids.max()) + 1}

    def run() -> None:
        new_id, point = np.array([state["next"]], np.int64), xy[rng.integers(0, len(xy))][None]
        state["next"] += 1
        if hasattr(widget, "append_points"):
            widget.append_points(new_id, point)
        else:
            widget.set_map(np.concatenate([widget.ids, new_id]), np.concatenate([widget.xy, point]))
        widget.plot.grab()

    ms, cpu = _timed(run, repeats)
    return {"map_append_ms": ms, "map_append_cpu_ms": cpu}


def _app() -> Any:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def measure_map(xy: np.ndarray, repeats: int = 5) -> dict[str, Any]:
    """Our widget's figures on the map ``xy`` (classes from the nearest of 20 k-means-like centres)."""
    from micview.gui.scatter import ScatterWidget
    from micview.gui.session import Session

    _app()
    xy = np.asarray(xy, np.float32)
    rng = np.random.default_rng(0)
    centres = xy[rng.integers(0, len(xy), 20)]
    cls = np.zeros(len(xy), np.int64)
    best = np.full(len(xy), np.inf, np.float32)
    for k, c in enumerate(centres):
        d = np.sum((xy - c) ** 2, axis=1)
        cls[d < best], best = k, np.minimum(best, d)
    widget = ScatterWidget(Session())
    try:
        return measure_widget(widget, xy, cls, repeats)
    finally:
        widget.close()
        widget.deleteLater()


def compare(n: int, repeats: int, baseline_repeats: int) -> dict[str, Any]:
    """Ours and the baseline on the same clustered map of ``n`` points."""
    from bench_map_baseline import BaselineScatter

    from micview.gui.scatter import ScatterWidget
    from micview.gui.session import Session

    _app()
    import scipy.spatial  # noqa: F401  (imported once by whichever widget comes first: not part of set_map)

    xy, cls = clustered_map(n)
    result: dict[str, Any] = {"n": n, "load": round(os.getloadavg()[0], 1)}
    for name, make, reps in (("ours", ScatterWidget, repeats), ("baseline", BaselineScatter, baseline_repeats)):
        if reps <= 0:
            continue
        widget = make(Session())
        result[name] = measure_widget(widget, xy, cls, reps)
        widget.close()
        widget.deleteLater()
        _app().processEvents()
    return result


FIGURES = ("map_colour_ms", "map_colour_label_ms", "map_colour_number_ms", "map_colour_warm_ms", "map_select_ms",
           "map_select_lasso_ms", "map_pick_ms", "map_pick_p95_ms", "map_append_ms", "set_map_s")  # fmt: skip


def print_table(result: dict[str, Any]) -> None:
    ours, base = result["ours"], result.get("baseline", {})
    print(f"\nN = {result['n']:,} points; ours drawn as: {ours['drawn_as']}; selected {ours['selected']:,}")
    print(f"load average before: {result['load']}; wall-clock ms (process CPU ms)")
    print(f"{'figure':20} {'ours':>16} {'baseline':>18} {'speed-up':>9} {'goal':>6}")
    for key in FIGURES:
        mine, old = ours.get(key), base.get(key)
        ratio = f"{old / mine:.1f}x" if mine and old else ""
        goal = GOALS.get(re.sub("_(lasso|warm|label|number)", "", key), "")
        print(f"{key:20} {_cell(ours, key):>16} {_cell(base, key):>18} {ratio:>9} {goal:>6}")


def _cell(found: dict[str, Any], key: str) -> str:
    if found.get(key) is None:
        return ""
    cpu = found.get(key.replace("_ms", "_cpu_ms")) if key.endswith("_ms") and "p95" not in key else None
    return f"{found[key]:.4g}" + (f" ({cpu:.4g})" if cpu is not None else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", help="points (repeatable; default 100000 and 1000000)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline-repeats", type=int, default=3, help="0 skips the baseline")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    results = []
    for n in args.n or [100_000, 1_000_000]:
        results.append(compare(n, args.repeats, args.baseline_repeats))
        print_table(results[-1])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
