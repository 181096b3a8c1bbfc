"""The stored data-quality result as colour-by columns of the map (``Quality: outlier score`` …).

Qt-free, like :mod:`micview.gui.columns`, which lists these after the labels and fields. Values come from the
latest quality run of any model (``micview quality`` or the Quality view): one array per column is read, not
the whole result. Scores colour on a ramp; flags, clusters and suggested labels colour as classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from micview.core.store import Project
    from micview.core.store.runs import RunInfo

PREFIX = "Quality"
# display name -> (stored column, kind): "number" on a ramp, "flag" yes/no, or a named category
COLUMNS: dict[str, tuple[str, str]] = {
    "near duplicate": ("duplicate_group", "group"),
    "duplicate distance": ("duplicate_distance", "number"),
    "leak": ("leak", "leak"),
    "uniqueness": ("uniqueness", "number"),
    "outlier score": ("outlier_score", "number"),
    "outlier": ("is_outlier", "flag"),
    "representativeness": ("representativeness", "number"),
    "label issue score": ("label_issue_score", "number"),
    "label issue": ("is_label_issue", "flag"),
    "suggested label": ("suggested_label", "label"),
    "cluster": ("cluster", "cluster"),
    "blur": ("blur", "number"),
    "brightness": ("brightness", "number"),
    "saturation": ("saturation", "number"),
    "entropy": ("entropy", "number"),
    "blurry": ("is_blurry", "flag"),
    "dark": ("is_dark", "flag"),
    "saturated": ("is_saturated", "flag"),
    "low information": ("is_low_information", "flag"),
}
YES_NO = ["yes", "no"]
LEAKS = ["no", "across folders", "across labels", "across folders and labels"]


def _latest(project: Project) -> RunInfo | None:
    runs = [r for r in project.runs.all("quality") if r.status == "done"]
    return runs[-1] if runs else None


def quality_column_names(project: Project) -> list[str]:
    """``Quality: <column>`` for each column the latest quality result holds (none before a first run)."""
    info = _latest(project)
    if info is None:
        return []
    stored = {r[0] for r in project.con.execute("SELECT name FROM run_arrays WHERE run_id = ?", (info.id,))}
    return [f"{PREFIX}: {name}" for name, (column, _) in COLUMNS.items() if column in stored]


def quality_column_values(project: Project, name: str) -> tuple[dict[int, Any], list[str] | None]:
    """Values by image id of one quality column, and its classes (``None``: a number)."""
    info = _latest(project)
    if info is None or name not in COLUMNS:
        return {}, []
    column, kind = COLUMNS[name]
    ids = project.runs.load_array(info.id, "image_ids").tolist()
    values = project.runs.load_array(info.id, column)
    if kind == "number":
        return dict(zip(ids, values.astype(np.float64).tolist(), strict=True)), None
    if kind == "flag":
        return dict(zip(ids, np.where(values.astype(bool), "yes", "no").tolist(), strict=True)), YES_NO
    if kind == "group":
        return dict(zip(ids, np.where(values >= 0, "yes", "no").tolist(), strict=True)), YES_NO
    if kind == "leak":
        return {i: LEAKS[int(v)] if 0 <= v < len(LEAKS) else None for i, v in zip(ids, values, strict=True)}, LEAKS
    names = list(info.params.get("cluster_names" if kind == "cluster" else "classes") or [])
    out = {i: names[int(v)] if 0 <= v < len(names) else None for i, v in zip(ids, values.tolist(), strict=True)}
    return out, names
