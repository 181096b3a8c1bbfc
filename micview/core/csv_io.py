"""The labelled-CSV contract shared by every micview command and by users' spreadsheets.

* The key column is ``file``: the image path relative to the project (see :mod:`micview.core.image_matcher`
  for how a row finds its image, and why a row never lands on the wrong one).
* A label task ``T`` is the column ``T`` (the user's label), with model output in ``T_pred`` and ``T_score``
  (the top class's score) and one ``T_p_<class>`` column per class where the model gave every class's score,
  then ``T_top2`` (the second most likely class) and ``T_model`` (the model id) where ``T`` has predictions.
* Metadata columns follow: file facts, instrument columns, the user's own columns, ``note``, ``tags``.

What an import does with each column: :mod:`micview.core.label_import`. Every cell comes back exactly as it was
written, and exports are safe against spreadsheet formula injection (:mod:`micview.core.csv_cells`); files are
written atomically.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from micview.core.atomic import atomic_write
from micview.core.csv_cells import KEY, CsvTable, csv_cell, read_csv, read_table, unescape_cell
from micview.core.image_matcher import ImageMatcher
from micview.core.label_import import Conflict, LabelImportReport, guess_tasks, import_labels
from micview.core.plates import natural_key
from micview.core.store import Project
from micview.core.store.annotations import MODEL
from micview.core.store.images import INSTRUMENT_COLUMNS, ImageRow

__all__ = [
    "KEY", "Conflict", "CsvTable", "ImageMatcher", "LabelImportReport", "csv_cell", "export_csv", "guess_tasks",
    "import_labels", "read_csv", "read_table", "score_classes", "unescape_cell", "write_csv_atomic",
]  # fmt: skip

_EXPORT_FILE_COLUMNS = ("status", "format", "width", "height", "frames", "channels", "bit_depth", "dtype")


# -- export ---------------------------------------------------------------------------------------------------
def export_csv(
    project: Project,
    out_path: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    labelled_only: bool = False,
    image_ids: Iterable[int] | None = None,
) -> int:
    """Write one row per image (labels, predictions, scores, metadata); returns the number of rows.

    ``image_ids`` limits the rows to those images (a selection, the images a filter shows); ids that are not in
    the project are ignored. The columns stay those of a full export, so exports of parts line up.
    """
    out_path = Path(out_path)
    task_names = list(tasks) if tasks is not None else project.labels.task_names()
    images = sorted(project.images.all(), key=lambda im: natural_key(im.path))  # by file, img2 before img10
    if image_ids is not None:
        wanted = {int(i) for i in image_ids}
        images = [im for im in images if im.id in wanted]
    user = {t: project.labels.current(t) for t in task_names}
    model = {t: project.labels.current(t, MODEL) for t in task_names}
    if labelled_only:
        images = [im for im in images if any(im.id in user[t] for t in task_names)]
    class_cols = {t: score_classes(model[t].values()) for t in task_names}
    fields = project.fields.all()
    field_names = [f for f in project.fields.names() if f not in task_names]
    tags = project.fields.tags()
    notes: dict[int, str] = dict(project.con.execute("SELECT image_id, text FROM notes"))
    header = [KEY]
    for t in task_names:
        header += [t, f"{t}_pred", f"{t}_score", *(f"{t}_p_{c}" for c in class_cols[t])]
        header += [f"{t}_top2", f"{t}_model"] if model[t] else []
    header += [*_EXPORT_FILE_COLUMNS, *INSTRUMENT_COLUMNS, *field_names, "note", "tags", "error", "content_hash"]
    rows = (
        _export_row(im, task_names, user, model, class_cols, fields.get(im.id, {}), field_names, tags, notes)
        for im in images
    )
    write_csv_atomic(out_path, [csv_cell(h) for h in header], rows)  # a task may be named "=1+1" too
    return len(images)


def score_classes(predictions: Iterable[Any]) -> list[str]:
    classes: dict[str, None] = {}
    for p in predictions:
        for c in p.scores or {}:
            classes.setdefault(c, None)
    return list(classes)


def _export_row(
    im: ImageRow,
    task_names: list[str],
    user: dict[str, Any],
    model: dict[str, Any],
    class_cols: dict[str, list[str]],
    fields: dict[str, str | None],
    field_names: list[str],
    tags: dict[int, list[str]],
    notes: dict[int, str],
) -> list[str]:
    row: list[Any] = [im.path]
    for t in task_names:
        u, m = user[t].get(im.id), model[t].get(im.id)
        scores = (m.scores or {}) if m else {}
        row += [u.label if u else None, m.label if m else None, m.score if m else None]
        row += [scores.get(c) for c in class_cols[t]]
        if model[t]:
            row += [_second(scores), m.model_id if m else None]
    row += [getattr(im, c) for c in _EXPORT_FILE_COLUMNS]
    row += [getattr(im, c) for c in INSTRUMENT_COLUMNS]
    row += [fields.get(f) for f in field_names]
    row += [notes.get(im.id) or None, "; ".join(tags.get(im.id, [])) or None, im.error, im.content_hash]
    return [csv_cell(v) for v in row]


def _second(scores: dict[str, float]) -> str | None:
    """The second most likely class (``T_top2``), or ``None`` with fewer than two scores."""
    ranked = sorted(scores, key=lambda c: -scores[c])
    return ranked[1] if len(ranked) > 1 else None


def write_csv_atomic(path: Path, header: list[str], rows: Iterable[list[str]]) -> None:
    """Write the CSV all at once or not at all (:func:`micview.core.atomic.atomic_write`).

    A full disk never leaves half a CSV; a missing folder, a folder path, no permission or a full disk raise
    :class:`~micview.core.errors.OutputError` with the reason. New files follow the umask.
    """
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
