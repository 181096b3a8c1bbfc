"""The labelled-CSV contract shared by every micview command and by users' spreadsheets.

* The key column is ``file``: the image path relative to the project (or as given; joined by file name when
  that is unique).
* A label task ``T`` is the column ``T`` (the user's label), with model output in ``T_pred`` and ``T_score``
  (the top class's score) and one ``T_p_<class>`` column per class where the model gave every class's score,
  then ``T_top2`` (the second most likely class) and ``T_model`` (the model id) where ``T`` has predictions.
* Metadata columns follow.

Exports are safe against spreadsheet formula injection (a cell that starts with ``= + - @`` or a control
character is prefixed with ``'``, which imports strip again) and written atomically.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micview.core.atomic import atomic_write
from micview.core.errors import CsvError
from micview.core.plates import natural_key
from micview.core.store import Project
from micview.core.store.annotations import MODEL
from micview.core.store.images import FILE_COLUMNS, INSTRUMENT_COLUMNS, ImageRow

KEY = "file"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXPORT_FILE_COLUMNS = ("status", "format", "width", "height", "frames", "channels", "bit_depth", "dtype")
_NOT_FIELDS = {KEY, *FILE_COLUMNS, *INSTRUMENT_COLUMNS, "tags", "note", "path", "name", "folder"}
_MAX_AUTO_CLASSES = 30


# -- import ---------------------------------------------------------------------------------------------------
@dataclass
class LabelImportReport:
    rows: int = 0
    matched: int = 0
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    tasks: dict[str, int] = field(default_factory=dict)  # task -> labels written (new or changed)
    fields: list[str] = field(default_factory=list)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV, tolerant of Excel's habits (BOM, ';' delimiter, cp1252)."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly everything
        raise CsvError(f"{path}: cannot decode the file as UTF-8 or Windows-1252 text.")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    if not reader.fieldnames:
        raise CsvError(f"{path}: the file is empty or has no header row.")
    header = [h.strip() for h in reader.fieldnames]
    rows = [{h: _unescape(v or "") for h, v in zip(header, r.values(), strict=False)} for r in reader]
    return header, rows


def _unescape(value: str) -> str:
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _is_model_column(name: str, header: Sequence[str] = ()) -> bool:
    """Model output columns; ``T_model`` only counts when ``T`` is a column too (``microscope_model`` is data)."""
    if name.endswith(("_pred", "_score", "_top2")) or "_p_" in name:
        return True
    return name.endswith("_model") and name[: -len("_model")] in header


def guess_tasks(header: Sequence[str], rows: Sequence[dict[str, str]]) -> list[str]:
    """Columns that look like labels: values repeat, few distinct ones, each used on average by several rows."""
    tasks = []
    for col in header:
        if col in _NOT_FIELDS or _is_model_column(col, header):
            continue
        values = [r[col] for r in rows if r.get(col)]
        distinct = len(set(values))
        repeats = distinct < len(values)
        if repeats and distinct <= _MAX_AUTO_CLASSES and distinct <= max(2, len(values) // 5):
            tasks.append(col)
    return tasks


class ImageMatcher:
    """Finds the image a CSV row means: by project-relative path, by path relative to the CSV, by file name."""

    def __init__(self, project: Project, csv_dir: Path) -> None:
        self._project = project
        self._csv_dir = csv_dir
        self._by_path = project.images.ids_by_stored_path()
        names: dict[str, list[int]] = {}
        for stored, image_id in self._by_path.items():
            names.setdefault(stored.rsplit("/", 1)[-1], []).append(image_id)
        self._by_name = names

    def match(self, value: str) -> int | list[int] | None:
        v = value.replace("\\", "/")
        v = v[2:] if v.startswith("./") else v
        if v in self._by_path:
            return self._by_path[v]
        stored = self._project.to_stored(self._csv_dir / v)
        if stored in self._by_path:
            return self._by_path[stored]
        ids = self._by_name.get(v.rsplit("/", 1)[-1], [])
        return ids[0] if len(ids) == 1 else (ids or None)


def import_labels(
    project: Project,
    csv_path: str | Path,
    *,
    key: str = KEY,
    tasks: Sequence[str] | None = None,
    author: str | None = None,
) -> LabelImportReport:
    """Join a CSV onto the project's images: label-task columns become user labels, the rest metadata.

    Rows that match no image (or several) are reported, never silently dropped. Labels equal to the current
    ones are not written again, so importing the same file twice changes nothing.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise CsvError(f"{csv_path}: no such file.")
    header, rows = read_csv(csv_path)
    if key not in header:
        raise CsvError(f"{csv_path}: no '{key}' column (columns: {', '.join(header)}); name the key with --key.")
    chosen = list(tasks) if tasks is not None else guess_tasks(header, rows)
    if missing := [t for t in chosen if t not in header]:
        raise CsvError(f"{csv_path}: no column(s) {', '.join(missing)} (columns: {', '.join(header)}).")
    report = LabelImportReport(rows=len(rows))
    report.fields = [h for h in header if h != key and h not in chosen and h not in _NOT_FIELDS
                     and not _is_model_column(h, header)]  # fmt: skip
    matched = _match_rows(project, csv_path, key, rows, report)
    with project.transaction():
        for task in chosen:
            report.tasks[task] = _write_task(project, task, matched, author)
        project.fields.set_many({i: {f: r.get(f) or None for f in report.fields} for i, r in matched.items()})
    return report


def _match_rows(
    project: Project, csv_path: Path, key: str, rows: list[dict[str, str]], report: LabelImportReport
) -> dict[int, dict[str, str]]:
    matcher = ImageMatcher(project, csv_path.parent)
    matched: dict[int, dict[str, str]] = {}
    for row in rows:
        found = matcher.match(row.get(key, ""))
        if isinstance(found, int):
            matched[found] = row
        elif isinstance(found, list):
            report.ambiguous.append(row.get(key, ""))
        else:
            report.unmatched.append(row.get(key, ""))
    report.matched = len(matched)
    return matched


def _write_task(project: Project, task: str, matched: dict[int, dict[str, str]], author: str | None) -> int:
    current = project.labels.labels(task)
    new = {i: r[task] for i, r in matched.items() if r.get(task) and current.get(i) != r[task]}
    project.labels.set_many(task, dict(new), author=author)
    existing = project.labels.task(task)
    counts = Counter(project.labels.labels(task).values())
    classes = list(existing.classes) if existing and existing.classes else []
    classes += [c for c, _ in counts.most_common() if c not in classes]
    project.labels.define_task(
        task, classes, existing.groups if existing else None, existing.description if existing else ""
    )
    return len(new)


# -- export ---------------------------------------------------------------------------------------------------
def csv_cell(value: Any) -> str:
    """One cell as text; strings that a spreadsheet would run as a formula get a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(
    project: Project, out_path: str | Path, *, tasks: Sequence[str] | None = None, labelled_only: bool = False
) -> int:
    """Write one row per image (labels, predictions, scores, metadata); returns the number of rows."""
    out_path = Path(out_path)
    task_names = list(tasks) if tasks is not None else project.labels.task_names()
    images = sorted(project.images.all(), key=lambda im: natural_key(im.path))  # by file, img2 before img10
    user = {t: project.labels.current(t) for t in task_names}
    model = {t: project.labels.current(t, MODEL) for t in task_names}
    if labelled_only:
        images = [im for im in images if any(im.id in user[t] for t in task_names)]
    class_cols = {t: score_classes(model[t].values()) for t in task_names}
    fields = project.fields.all()
    field_names = [f for f in project.fields.names() if f not in task_names]
    tags = project.fields.tags()
    header = [KEY]
    for t in task_names:
        header += [t, f"{t}_pred", f"{t}_score", *(f"{t}_p_{c}" for c in class_cols[t])]
        header += [f"{t}_top2", f"{t}_model"] if model[t] else []
    header += [*_EXPORT_FILE_COLUMNS, *INSTRUMENT_COLUMNS, *field_names, "tags", "error", "content_hash"]
    rows = (
        _export_row(im, task_names, user, model, class_cols, fields.get(im.id, {}), field_names, tags) for im in images
    )
    write_csv_atomic(out_path, header, rows)
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
    row += ["; ".join(tags.get(im.id, [])) or None, im.error, im.content_hash]
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
