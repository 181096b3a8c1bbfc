"""What ``micview import-labels`` tells the user: every row and every column of the CSV is accounted for."""

from __future__ import annotations

from micview.core.csv_io import LabelImportReport

_SHOWN = 20


def print_label_report(r: LabelImportReport) -> None:
    print(f"{r.matched} of {r.rows} rows matched an image.")
    for task, n in r.tasks.items():
        print(f"  task '{task}': {n} labels written")
    if r.fields:
        print(f"  metadata columns: {', '.join(r.fields)}")
    for column, target in r.renamed.items():
        print(f"  column '{column}' differs from the files' own {column}: kept as metadata column '{target}'")
    if r.notes or r.tags:
        print(f"  notes written: {r.notes}, tags added: {r.tags}")
    for column, why in r.ignored.items():
        print(f"  column '{column}' not imported: {why}")
    _print_conflicts(r)
    _print_unmatched(r)
    if r.long_rows:
        print(f"  {len(r.long_rows)} rows have more cells than the header; the extra cells were not imported "
              f"(lines {_lines(r.long_rows)})")  # fmt: skip


def _print_conflicts(r: LabelImportReport) -> None:
    if not r.conflicts:
        return
    if r.last_wins:
        print(f"  {len(r.conflicts)} images had rows that disagree; the last row of each was written (--last-wins):")
    else:
        print(f"  {len(r.conflicts)} images have rows that disagree; none of those rows was written "
              "(fix the CSV, or use --last-wins to take the last row):")  # fmt: skip
    for c in r.conflicts[:_SHOWN]:
        differences = "; ".join(f"{col}: {' / '.join(map(repr, values))}" for col, values in c.values.items())
        print(f"    {c.file} (lines {_lines(c.lines)}): {differences}")
    if len(r.conflicts) > _SHOWN:
        print(f"    ... {len(r.conflicts)} in all")


def _print_unmatched(r: LabelImportReport) -> None:
    for value in r.unmatched[:_SHOWN]:
        print(f"  no image for: {value}")
    if len(r.unmatched) > _SHOWN:
        print(f"  ... {len(r.unmatched)} unmatched rows in all")
    for value in r.ambiguous[:_SHOWN]:
        print(f"  several images could be meant by: {value} (use the path relative to the project)")
    if len(r.ambiguous) > _SHOWN:
        print(f"  ... {len(r.ambiguous)} ambiguous rows in all")
    with_folders = sum("/" in v.replace("\\", "/") for v in r.unmatched)
    if with_folders:
        print(f"  {with_folders} unmatched rows name folders this project does not have; a path with folders only "
              "matches that path. If the CSV was written on another computer with the same files, --match-names "
              "joins them by file name (when the name is unique).")  # fmt: skip


def _lines(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:10]))
    return shown + (", ..." if len(lines) > 10 else "")
