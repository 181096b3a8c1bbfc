"""``micview export --map``: the labelled CSV with ``map_x`` and ``map_y`` of the current map.

The CSV itself is :func:`micview.core.csv_io.export_csv`'s, unchanged; this adds two columns at the end, read
from the newest stored map run (what ``micview map`` or the window made last; points placed on it later by
watch mode included). Images not on that map get empty cells. Written atomically, like every export.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Sequence
from pathlib import Path

from micview.core.csv_io import csv_cell, export_csv, write_csv_atomic
from micview.core.errors import MicviewError
from micview.core.store import Project
from micview.core.store.runs import RunInfo
from micview.ml.map_growth import map_points


def newest_map(project: Project, model_id: str | None = None) -> RunInfo:
    """The newest finished map run (of ``model_id`` when given); a clear error when there is none."""
    runs = [r for r in project.runs.all("map") if r.status == "done" and model_id in (None, r.model_id)]
    if not runs:
        of = f" of {model_id}" if model_id else ""
        raise MicviewError(f"{project.path.name} has no map{of} yet; make one with `micview map {project.path}`.")
    return runs[-1]


def export_with_map(
    project: Project,
    out_path: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    labelled_only: bool = False,
    model_id: str | None = None,
) -> tuple[int, RunInfo]:
    """Write the export with ``map_x``/``map_y``; returns the number of rows and the map run used."""
    run = newest_map(project, model_id)
    ids, xy = map_points(project, run.id)
    where = {int(i): (float(p[0]), float(p[1])) for i, p in zip(ids, xy, strict=True)}
    cell_to_id = {csv_cell(row.path): row.id for row in project.images.all()}
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="micview-export-") as tmp:
        plain = Path(tmp) / "plain.csv"
        n = export_csv(project, plain, tasks=tasks, labelled_only=labelled_only)
        with plain.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            rows = [[*r, *_coords(where.get(cell_to_id.get(r[0], -1)))] for r in reader]
    write_csv_atomic(out_path, [*header, "map_x", "map_y"], rows)
    return n, run


def _coords(point: tuple[float, float] | None) -> list[str]:
    return [csv_cell(round(point[0], 6)), csv_cell(round(point[1], 6))] if point else ["", ""]
