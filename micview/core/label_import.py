"""Importing labels and metadata from a CSV: every column goes somewhere said aloud, every row to its own image.

Column rules (the README's "CSV contract" says the same):

* the key (``file``, or ``--key``): which image, by :mod:`micview.core.image_matcher`'s rules;
* label-task columns (``--tasks``, or guessed): a non-empty cell is the user's label, exactly as written
  (spaces included); an empty cell leaves the image's label as it is;
* model output of a task in the same CSV (``T_pred``, ``T_score``, ``T_p_<class>``, ``T_top2``, ``T_model``):
  not imported (predictions come from running a model) and listed as ignored;
* ``note``: the image's note (a non-empty cell replaces it); ``tags``: tags added, separated by ``;``;
* instrument columns micview reads from the files (``magnification``, ``detector``, ``voltage_kv``, ...): a
  column whose every cell equals the image's own value (a micview export coming back) is skipped; one that
  differs anywhere is imported whole as the metadata column ``csv_<name>``, never over the file's own value;
* facts micview computes from the file (``status``, ``format``, ``width``, ..., ``content_hash``, ``path``):
  ignored, and listed;
* any other column: a metadata column of that name (an empty cell clears it).

Two rows for one image that disagree are a conflict: by default none of them is written and each is listed
(``last_wins=True`` writes the last one, and still lists them). Identical repeated rows are harmless.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from micview.core.csv_cells import KEY, CsvTable, csv_cell, key_column, model_column_task, read_table
from micview.core.errors import CsvError
from micview.core.image_matcher import ImageMatcher
from micview.core.store import ImageRow, Project
from micview.core.store.images import FILE_COLUMNS, INSTRUMENT_COLUMNS

NOTE, TAGS = "note", "tags"
RENAMED_PREFIX = "csv_"
COMPUTED = frozenset({*FILE_COLUMNS, "path", "name", "folder", "id"})
BUILT_IN = frozenset({*COMPUTED, *INSTRUMENT_COLUMNS, NOTE, TAGS})
_MAX_AUTO_CLASSES = 30

Row = dict[str, str]


@dataclass(frozen=True)
class Conflict:
    """Rows of one CSV that give one image different values."""

    file: str  # the image's stored path
    lines: list[int]  # the rows' line numbers in the CSV
    values: dict[str, list[str]]  # each differing column -> the rows' values, in line order


@dataclass
class LabelImportReport:
    """What an import did and did not do; nothing in the CSV goes unmentioned."""

    rows: int = 0
    matched: int = 0  # rows that matched exactly one image
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    unmatched_lines: list[int] = field(default_factory=list)  # the CSV line of each unmatched row, in step
    ambiguous_lines: list[int] = field(default_factory=list)  # the CSV line of each ambiguous row, in step
    tasks: dict[str, int] = field(default_factory=dict)  # task -> labels written (new or changed)
    fields: list[str] = field(default_factory=list)  # metadata columns written, by their names in the project
    renamed: dict[str, str] = field(default_factory=dict)  # CSV column -> metadata column it was written to
    ignored: dict[str, str] = field(default_factory=dict)  # CSV column -> why it was not imported
    notes: int = 0  # notes written (new or changed)
    tags: int = 0  # tags added
    conflicts: list[Conflict] = field(default_factory=list)
    last_wins: bool = False  # conflicts were resolved by writing the last row
    long_rows: list[int] = field(default_factory=list)  # lines with cells beyond the header (not imported)
    match_names: bool = False  # rows whose folders are not in the project were joined by file name
    # task -> image id -> (label before, label written): what an undo puts back
    changes: dict[str, dict[int, tuple[str | None, str]]] = field(default_factory=dict, repr=False)


def guess_tasks(header: Sequence[str], rows: Sequence[Row]) -> list[str]:
    """Columns that look like labels: values repeat, few distinct ones, each used on average by several rows.

    Names that look like model output (``*_pred``, ``*_score``, ``*_p_*``, ...) are never guessed as tasks;
    without their task in the CSV they are imported as metadata.
    """
    tasks = []
    for col in header:
        if col == KEY or col in BUILT_IN or model_column_task(col, header) or _looks_like_model_output(col):
            continue
        values = [r[col] for r in rows if r.get(col)]
        distinct = len(set(values))
        repeats = distinct < len(values)
        if repeats and distinct <= _MAX_AUTO_CLASSES and distinct <= max(2, len(values) // 5):
            tasks.append(col)
    return tasks


def _looks_like_model_output(name: str) -> bool:
    return name.endswith(("_pred", "_score", "_top2")) or "_p_" in name


def import_labels(
    project: Project,
    csv_path: str | Path,
    *,
    key: str = KEY,
    tasks: Sequence[str] | None = None,
    author: str | None = None,
    last_wins: bool = False,
    match_names: bool = False,
) -> LabelImportReport:
    """Join a CSV onto the project's images by the rules above, in one transaction.

    Labels equal to the current ones are not written again, so importing the same file twice changes nothing.
    ``match_names`` joins rows whose folders are not in the project by file name (when unique).
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise CsvError(f"{csv_path}: no such file.")
    table = read_table(csv_path, key)
    key_col = key_column(table.header, key)
    if key_col is None:
        raise CsvError(f"{csv_path}: no '{key}' column (columns: {', '.join(table.header)}); name the key with --key.")
    chosen = list(tasks) if tasks is not None else guess_tasks([h for h in table.header if h != key_col], table.rows)
    if missing := [t for t in chosen if t not in table.header]:
        raise CsvError(f"{csv_path}: no column(s) {', '.join(missing)} (columns: {', '.join(table.header)}).")
    report = LabelImportReport(
        rows=len(table.rows), last_wins=last_wins, long_rows=table.long_rows, match_names=match_names
    )
    plain, instrument = _sort_columns(table, key_col, chosen, report)
    found = _match(project, table, key_col, report, match_names)
    rows = _settle_duplicates(project, found, [*chosen, *plain, *instrument], report)
    renamed = _instrument_columns(project, rows, instrument, table.header, report)
    report.fields = [*[c for c in plain if c not in (NOTE, TAGS)], *renamed.values()]
    with project.transaction():
        for task in chosen:
            report.changes[task] = _write_task(project, task, rows, author)
            report.tasks[task] = len(report.changes[task])
        values = {i: {f: r.get(f) or None for f in plain if f not in (NOTE, TAGS)} for i, r in rows.items()}
        for i, r in rows.items():
            values[i].update({new: r.get(old) or None for old, new in renamed.items()})
        project.fields.set_many(values)
        _write_notes_and_tags(project, rows, plain, report)
    return report


def _sort_columns(
    table: CsvTable, key_col: str, chosen: list[str], report: LabelImportReport
) -> tuple[list[str], list[str]]:
    """(plain metadata columns incl. note/tags, instrument columns); the rest is recorded as ignored."""
    plain: list[str] = []
    instrument: list[str] = []
    for h in table.header:
        if h == key_col or h in chosen:
            continue
        if (task := model_column_task(h, table.header)) is not None:
            report.ignored[h] = f"model output for '{task}': predictions come from running a model"
        elif h in COMPUTED:
            report.ignored[h] = "micview computes it from the file itself"
        elif h in INSTRUMENT_COLUMNS:
            instrument.append(h)
        else:
            plain.append(h)
    for position in table.unnamed:
        report.ignored[f"column {position}"] = "it has no name in the header row"
    return plain, instrument


def _match(
    project: Project, table: CsvTable, key_col: str, report: LabelImportReport, match_names: bool
) -> dict[int, list[tuple[int, Row]]]:
    matcher = ImageMatcher(project, table.path.parent, names="any" if match_names else "bare")
    rows: dict[int, list[tuple[int, Row]]] = {}
    for line, row in zip(table.lines, table.rows, strict=True):
        found = matcher.match(row.get(key_col, ""))
        if isinstance(found, int):
            rows.setdefault(found, []).append((line, row))
            report.matched += 1
        elif isinstance(found, list):
            report.ambiguous.append(row.get(key_col, ""))
            report.ambiguous_lines.append(line)
        else:
            report.unmatched.append(row.get(key_col, ""))
            report.unmatched_lines.append(line)
    return rows


def _settle_duplicates(
    project: Project, rows: dict[int, list[tuple[int, Row]]], columns: list[str], report: LabelImportReport
) -> dict[int, Row]:
    """One row per image: repeated identical rows collapse; rows that disagree are a conflict."""
    out: dict[int, Row] = {}
    paths = {i: project.images.get(i).path for i, found in rows.items() if len(found) > 1}
    for image_id, found in rows.items():
        differing = {c: [r.get(c, "") for _, r in found] for c in columns if len({r.get(c, "") for _, r in found}) > 1}
        if differing:
            report.conflicts.append(Conflict(paths[image_id], [line for line, _ in found], differing))
            if not report.last_wins:
                continue
        out[image_id] = found[-1][1]
    return out


def _instrument_columns(
    project: Project, rows: dict[int, Row], columns: list[str], header: list[str], report: LabelImportReport
) -> dict[str, str]:
    """CSV column -> ``csv_<name>`` for instrument columns that differ from the files' own values."""
    images = {im.id: im for im in project.images.all()} if columns else {}
    renamed = {}
    for col in columns:
        if all(_same(r.get(col, ""), images[i], col) for i, r in rows.items()):
            report.ignored[col] = "the same as the instrument metadata micview read from the files"
        elif (target := RENAMED_PREFIX + col) in header:
            report.ignored[col] = f"differs from the files' own values, but '{target}' is taken by another column"
        else:
            renamed[col] = report.renamed[col] = target
    return renamed


def _same(cell: str, image: ImageRow, column: str) -> bool:
    value = getattr(image, column)
    if value is None or cell == "":
        return value is None and cell == ""
    if cell in (str(value), csv_cell(value)):
        return True
    try:
        return float(cell) == float(value)
    except (TypeError, ValueError):
        return False


def _write_task(
    project: Project, task: str, rows: dict[int, Row], author: str | None
) -> dict[int, tuple[str | None, str]]:
    """Write the task's non-empty cells that differ from the current labels; image id -> (before, written)."""
    current = project.labels.labels(task)
    new = {i: r[task] for i, r in rows.items() if r.get(task) and current.get(i) != r[task]}
    project.labels.set_many(task, dict(new), author=author)
    existing = project.labels.task(task)
    counts = Counter(project.labels.labels(task).values())
    classes = list(existing.classes) if existing and existing.classes else []
    classes += [c for c, _ in counts.most_common() if c not in classes]
    project.labels.define_task(
        task, classes, existing.groups if existing else None, existing.description if existing else ""
    )
    return {i: (current.get(i), label) for i, label in new.items()}


def _write_notes_and_tags(project: Project, rows: dict[int, Row], plain: list[str], report: LabelImportReport) -> None:
    if NOTE in plain:
        for i, r in rows.items():
            if r.get(NOTE) and project.fields.note(i) != r[NOTE]:
                project.fields.set_note(i, r[NOTE])
                report.notes += 1
    if TAGS in plain:
        have = project.fields.tags()
        for i, r in rows.items():
            for tag in split_tags(r.get(TAGS, "")):
                if tag not in have.setdefault(i, []):
                    project.fields.add_tags([i], tag)
                    have[i].append(tag)
                    report.tags += 1


def split_tags(cell: str) -> list[str]:
    """``"a; b"`` -> ``["a", "b"]``: the export joins tags with ``"; "``."""
    return [t.strip() for t in cell.split(";") if t.strip()]
