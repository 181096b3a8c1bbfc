"""A label write's cost on the GUI thread with N images, today's targeted path against the old full re-read.

    python scripts/bench_grid_labels.py [--n 100000] [--k 1 100 10000] [--repeat 3] [--map]

Builds a project of N image rows (scripts/bench_project.py's rows, a third labelled ``technique`` "SEM"), opens
it in the main window (offscreen, 1280x800) with ``technique`` the active task; ``--map`` also shows a map of N
points coloured by another column (a map coloured by the task itself recolours on every write, old and new
alike: that is the map's cost, not the grid's). Then writes the label of k images, k contiguous rows of the grid
as a shift-click selects them, in two views: the whole grid, and the grid filtered to "SEM" (the written rows
leave the view; writing them back, they enter it).

* new: ``LabellingController.write`` — the undoable command reads the old labels of the k images, writes, and
  ``Session.labels_written`` lets the grid update those k rows.
* old (reproduced here, as the code was before): the command read the whole task to remember the old labels,
  and ``labels_changed`` made the grid re-read every label and prediction of the task and reset or repaint
  every row, and the Analysis tab read every task's labels to list the tasks that have some.

Each figure is the median of ``--repeat`` writes, old and new alternating, timed from the call until the
event loop has run twice (the repaint the write asked for included); "grid" is the browser's own part.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

TASK = "technique"


def old_write(s, labels: dict[int, str | None]) -> None:
    """The write as it was: the whole task read for the undo's old labels, then every view re-reads."""
    project = s.require_project()
    current = project.labels.labels(TASK)
    _before = {i: current.get(i) for i in labels}
    project.labels.set_many(TASK, labels)
    s.labels_changed.emit(TASK)
    _ = [t for t in project.labels.task_names() if project.labels.labels(t)]  # the Analysis tab's old task list


def new_write(w, labels: dict[int, str | None]) -> None:
    w.ctl.labelling.write(TASK, labels, "bench")


def old_grid(w, labels: dict[int, str | None]) -> None:
    """The browser's old reaction to labels_changed (the write itself not counted)."""
    w.browser._reload_annotations()


def new_grid(w, labels: dict[int, str | None]) -> None:
    from micview.gui.session import LabelWrite

    s = w.session
    s.label_write = LabelWrite(TASK, labels)
    try:
        w.browser._on_labels_changed(TASK)
    finally:
        s.label_write = None


def timed(app, fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    app.processEvents()
    app.processEvents()
    return (time.perf_counter() - t) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="images (default 100 000)")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 100, 10_000], help="images per write")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--map", action="store_true", help="also show a map of N points (coloured by folder)")
    args = parser.parse_args()
    import numpy as np
    from bench_project import big_window

    app, w, _ = big_window(args.n, "micview-bench-grid-labels-")
    s = w.session
    w.ctl.labelling.define(TASK, ["SEM", "TEM", "optical"])
    app.processEvents()
    if args.map:
        from bench_map import clustered_map

        from micview.gui.state import MapData

        ids = np.array(sorted(r.id for r in s.catalog.rows), np.int64)
        xy, _cls = clustered_map(len(ids))
        s.map.set_data(MapData(ids, xy, "umap", s.model_id, f"UMAP of {len(ids):,} images"))
        app.processEvents()
        combo = w.scatter.color_combo
        combo.setCurrentIndex(combo.findText("Folder"))
        combo.activated.emit(combo.currentIndex())
        app.processEvents()
    b, m = w.browser, w.browser.model
    print(f"{args.n:,} images, technique labelled on {len(m.labels):,}; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; map shown: {args.map}")  # fmt: skip
    print(f"{'view':<14}{'k':>7}  {'old write':>10} {'new write':>10} {'ratio':>7}   "
          f"{'old grid':>9} {'new grid':>9} {'ratio':>7}")  # fmt: skip
    for view in ("whole grid", "filter SEM"):
        for k in args.k:
            rows = _measure(app, w, view, k, args.repeat)
            for label, (ow, nw, og, ng) in rows.items():
                print(f"{label:<14}{k:>7}  {ow:>8.1f}ms {nw:>8.1f}ms {ow / nw:>6.1f}x   "
                      f"{og:>7.1f}ms {ng:>7.1f}ms {og / ng:>6.1f}x")  # fmt: skip
            _check(w)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    b.close()
    w.close()
    return 0


def _measure(app, w, view: str, k: int, repeat: int) -> dict[str, tuple[float, float, float, float]]:
    """Median ms of (old write, new write, old grid part, new grid part) per kind of write in ``view``."""
    b, m, s = w.browser, w.browser.model, w.session
    combo = b.label_combo
    combo.setCurrentIndex(combo.findData("SEM") if view == "filter SEM" else 0)
    app.processEvents()
    times: dict[str, list[list[float]]] = {}
    for r in range(repeat):
        start = (r * 7919) % max(1, len(m.visible) - k)
        ids = [m.id_at(i) for i in range(start, min(start + k, len(m.visible)))]
        if view == "whole grid":
            steps = [("whole grid", {i: ("TEM", "optical")[r % 2] for i in ids}, None)]
        else:  # they leave the SEM view, then come back
            steps = [("filter: leave", dict.fromkeys(ids, "TEM"), None),
                     ("filter: enter", dict.fromkeys(ids, "SEM"), None)]  # fmt: skip
        for label, labels, _ in steps:
            got = times.setdefault(label, [[], [], [], []])
            got[0].append(timed(app, lambda labels=labels: old_write(s, labels)))
            _undo_state(s, labels)
            got[1].append(timed(app, lambda labels=labels: new_write(w, labels)))
            _undo_state(s, labels)
            s.require_project().labels.set_many(TASK, labels)
            got[2].append(timed(app, lambda labels=labels: old_grid(w, labels)))
            _undo_state(s, labels)
            s.require_project().labels.set_many(TASK, labels)
            got[3].append(timed(app, lambda labels=labels: new_grid(w, labels)))
    return {label: tuple(statistics.median(v) for v in got) for label, got in times.items()}  # type: ignore[misc]


def _undo_state(s, labels: dict[int, str | None]) -> None:
    """Put the k images back as they were before the step (SEM, or TEM when the step wrote SEM), unseen by views
    except through the same full refresh both paths start from."""
    back = "TEM" if "SEM" in labels.values() else "SEM"
    s.require_project().labels.set_many(TASK, dict.fromkeys(labels, back))
    s.label_write = None
    s.labels_changed.emit(TASK)


def _check(w) -> None:
    """What the grid shows agrees with the project."""
    m = w.browser.model
    stored = w.session.require_project().labels.labels(TASK)
    assert m.labels == stored, "the grid's labels differ from the project's"
    flt = m.filter.label
    shown = [m.id_at(r) for r in range(m.rowCount())]
    if flt:
        assert all(stored.get(i) == flt for i in shown) and len(shown) == sum(v == flt for v in stored.values())


if __name__ == "__main__":
    raise SystemExit(main())
