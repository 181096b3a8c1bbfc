"""What the map can be coloured by: user labels, model predictions, file facts and instrument metadata."""

from __future__ import annotations

from typing import Any

from micview.core.store import ImageRow, Project

# display name -> (ImageRow attribute, numeric?)
FILE_COLUMNS = {
    "Folder": ("folder", False), "Format": ("format", False), "Detector": ("detector", False),
    "Instrument": ("instrument", False), "Bit depth": ("bit_depth", False),
    "Magnification": ("magnification", True), "Pixel size (nm)": ("pixel_size_nm", True),
    "Voltage (kV)": ("voltage_kv", True), "Width (px)": ("width", True),
}  # fmt: skip


def column_names(project: Project) -> list[str]:
    tasks = project.labels.task_names()
    preds = [t for t in tasks if project.labels.current(t, "model")]
    fields = [f"Field: {n}" for n in project.fields.names()]
    return [*(f"Label: {t}" for t in tasks), *(f"Prediction: {t}" for t in preds), *FILE_COLUMNS, *fields]


def column_values(project: Project, rows: list[ImageRow], name: str) -> tuple[dict[int, Any], list[str] | None]:
    """Values by image id, and the ordered classes (``None`` means a numeric column, coloured by a ramp)."""
    kind, _, arg = name.partition(": ")
    if kind == "Label":
        task = project.labels.task(arg)
        return project.labels.labels(arg), list(task.classes) if task else []
    if kind == "Prediction":
        task = project.labels.task(arg)
        preds = {i: a.label for i, a in project.labels.current(arg, "model").items()}
        return preds, list(task.classes) if task else []
    if kind == "Field":
        values = project.fields.column(arg)
        return values, sorted({v for v in values.values() if v is not None})
    attr, numeric = FILE_COLUMNS[name]
    values = {r.id: getattr(r, attr) for r in rows}
    return values, None if numeric else sorted({str(v) for v in values.values() if v is not None})
