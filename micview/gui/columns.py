"""The columns of a project beyond the image rows: label tasks, predictions, imported metadata.

Two users: the map's "Colour by" (:func:`column_names`, :func:`column_values`; with the stored data quality,
:mod:`micview.gui.quality_columns`) and the browser's
``column:value`` filter (:class:`FilterColumns`). Qt-free; values are read from the GUI thread's project
connection and kept until the labels or fields change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from micview.core.store import ImageRow, Project
from micview.core.store.annotations import MODEL, USER
from micview.gui.browser.filtering import ROW_COLUMNS
from micview.gui.quality_columns import PREFIX as QUALITY
from micview.gui.quality_columns import quality_column_names, quality_column_values

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
    quality = quality_column_names(project)
    return [*(f"Label: {t}" for t in tasks), *(f"Prediction: {t}" for t in preds), *FILE_COLUMNS, *fields, *quality]


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
    if kind == QUALITY:
        return quality_column_values(project, arg)
    if kind == "Field":
        values = project.fields.column(arg)
        return values, sorted({v for v in values.values() if v is not None})
    attr, numeric = FILE_COLUMNS[name]
    values = {r.id: getattr(r, attr) for r in rows}
    return values, None if numeric else sorted({str(v) for v in values.values() if v is not None})


def column_values_of(project: Project, name: str, ids: Iterable[int]) -> dict[int, Any]:
    """:func:`column_values` of a few images only (points added to the map): a query per image, where
    :func:`column_values` reads the whole column (a third of a second for 100 000 labels)."""
    kind, _, arg = name.partition(": ")
    wanted = [int(i) for i in ids]
    if kind in ("Label", "Prediction"):
        source = USER if kind == "Label" else MODEL
        out = {}
        for image_id in wanted:
            newest = [a for a in project.labels.history(image_id, arg) if a.source == source][-1:]
            if newest and newest[0].label is not None:
                out[image_id] = newest[0].label
        return out
    if kind == "Field":
        return {i: v for i in wanted if (v := project.fields.of_image(i).get(arg)) is not None}
    if kind == QUALITY:  # new points have no quality values until the next run
        keep = set(wanted)
        return {i: v for i, v in quality_column_values(project, arg)[0].items() if i in keep}
    if name in FILE_COLUMNS:
        attr, _numeric = FILE_COLUMNS[name]
        return {i: getattr(project.images.get(i), attr) for i in wanted}
    keep = set(wanted)
    return {i: v for i, v in column_values(project, [], name)[0].items() if i in keep}


def update_values(values: dict[int, Any], labels: Mapping[int, str | None]) -> None:
    """Apply written labels (``None``: removed) to a column's values by image id."""
    for image_id, label in labels.items():
        if label is None:
            values.pop(image_id, None)
        else:
            values[image_id] = label


class FilterColumns:
    """Resolves a filter column name (lower case) to values by image id: ``<task>`` (user labels),
    ``<task>_pred`` / ``<task>_score`` (the model's), or an imported metadata column. Cached until
    :meth:`invalidate`."""

    def __init__(self, project: Project | None) -> None:
        self.project = project
        self._cache: dict[str, dict[int, Any] | None] = {}
        self._names: dict[str, tuple[str, str]] | None = None

    def invalidate(self) -> None:
        self._cache.clear()
        self._names = None

    def _index(self) -> dict[str, tuple[str, str]]:
        """lower-case column name → (kind, real name)."""
        if self._names is None:
            names: dict[str, tuple[str, str]] = {}
            if self.project is not None:
                for f in self.project.fields.names():
                    names[f.lower()] = ("field", f)
                for t in self.project.labels.task_names():
                    names[t.lower()] = ("label", t)
                    names[f"{t.lower()}_pred"] = ("pred", t)
                    names[f"{t.lower()}_score"] = ("score", t)
            self._names = names
        return self._names

    def apply_write(self, task: str, labels: Mapping[int, str | None]) -> list[str]:
        """User labels of ``task`` were written (id → label now, ``None`` removed): update the values kept for
        its column in place (a filter that uses them sees the change) and return the column's names."""
        names = [c for c, (kind, real) in self._index().items() if kind == "label" and real == task]
        if not names:  # a task this index does not know yet (its first label): read the names again
            self._names = None
            names = [c for c, (kind, real) in self._index().items() if kind == "label" and real == task]
        for column in names:
            values = self._cache.get(column)
            if values is not None:
                update_values(values, labels)
        return names

    def cached(self, column: str) -> dict[int, Any] | None:
        """The values kept for ``column`` (None: not read since the last :meth:`invalidate`)."""
        return self._cache.get(column)

    def names(self) -> list[str]:
        """Every column a filter can name: the project's first, then the file facts."""
        return [*self._index(), *ROW_COLUMNS]

    def __call__(self, column: str) -> dict[int, Any] | None:
        if column not in self._cache:
            self._cache[column] = self._read(column)
        return self._cache[column]

    def _read(self, column: str) -> dict[int, Any] | None:
        found = self._index().get(column)
        if found is None or self.project is None:
            return None
        kind, name = found
        labels = self.project.labels
        if kind == "field":
            return self.project.fields.column(name)
        if kind == "label":
            return dict(labels.labels(name))
        current = labels.current(name, "model")
        return {i: (a.label if kind == "pred" else a.score) for i, a in current.items()}

    def examples(self, column: str, rows: list[ImageRow]) -> list[str]:
        """The most frequent values of ``column`` (to hint what to type)."""
        from collections import Counter

        if column in ROW_COLUMNS:
            values: list[Any] = [getattr(r, ROW_COLUMNS[column]) for r in rows]
        else:
            values = list((self(column) or {}).values())
        counts = Counter(str(v) for v in values if v is not None and str(v) != "")
        return [v for v, _ in counts.most_common(8)]
