"""What a label import did, in words: shared by ``micview import-labels`` and the window's import report.

Every row and every column of the CSV is accounted for: rows matched, labels written, columns kept under another
name or not imported (and why), rows that disagree, rows that matched no image (with their line numbers). The
command line and the window word it the same way; only how to act differs (a flag there, a button here), so
those names are passed in.
"""

from __future__ import annotations

from collections.abc import Sequence

from micview.core.label_import import Conflict, LabelImportReport

SHOWN = 20  # rows of each list printed by the command line


def lines_text(lines: Sequence[int], limit: int = 10) -> str:
    """``2, 3, 9`` (the first ``limit``, then ``...``)."""
    shown = ", ".join(map(str, lines[:limit]))
    return shown + (", ..." if len(lines) > limit else "")


def summary_lines(r: LabelImportReport) -> list[str]:
    """Rows matched, then (indented) labels written per task, metadata columns, notes and tags."""
    out = [f"{r.matched} of {r.rows} rows matched an image."]
    out += [f"  task '{task}': {n} labels written" for task, n in r.tasks.items()]
    if r.fields:
        out.append(f"  metadata columns: {', '.join(r.fields)}")
    if r.notes or r.tags:
        out.append(f"  notes written: {r.notes}, tags added: {r.tags}")
    return out


def renamed_text(column: str, target: str) -> str:
    return f"column '{column}' differs from the files' own {column}: kept as metadata column '{target}'"


def ignored_text(column: str, why: str) -> str:
    return f"column '{column}' not imported: {why}"


def conflict_values(c: Conflict) -> str:
    """``outcome: 'clear' / 'crystals'``: each differing column with the rows' values in line order."""
    return "; ".join(f"{col}: {' / '.join(map(repr, values))}" for col, values in c.values.items())


def conflict_text(c: Conflict) -> str:
    return f"{c.file} (lines {lines_text(c.lines)}): {conflict_values(c)}"


def conflicts_heading(r: LabelImportReport, last_wins: str = "--last-wins") -> str:
    """What happened to the rows that disagree; ``last_wins`` names the way to take the last row of each."""
    n = len(r.conflicts)
    if r.last_wins:
        return f"{n} images had rows that disagree; the last row of each was written ({last_wins})"
    return (
        f"{n} images have rows that disagree; none of those rows was written "
        f"(fix the CSV, or use {last_wins} to take the last row)"
    )


def unmatched_text(value: str, line: int | None = None) -> str:
    return f"no image for: {value or '(empty)'}" + (f" (line {line})" if line is not None else "")


def ambiguous_text(value: str, line: int | None = None) -> str:
    where = f" (line {line})" if line is not None else ""
    return f"several images could be meant by: {value}{where} (use the path relative to the project)"


def rows_naming_other_folders(r: LabelImportReport) -> int:
    """Unmatched rows whose path has folders: a path with folders only matches that path."""
    return sum("/" in v.replace("\\", "/") for v in r.unmatched)


def other_folders_text(n: int, match_names: str = "--match-names") -> str:
    return (
        f"{n} unmatched rows name folders this project does not have; a path with folders only matches that path. "
        f"If the CSV was written on another computer with the same files, {match_names} joins them by file name "
        "(when the name is unique)."
    )


def long_rows_text(r: LabelImportReport) -> str:
    return (
        f"{len(r.long_rows)} rows have more cells than the header; the extra cells were not imported "
        f"(lines {lines_text(r.long_rows)})"
    )


def report_lines(
    r: LabelImportReport, *, last_wins: str = "--last-wins", match_names: str = "--match-names", shown: int = SHOWN
) -> list[str]:
    """The whole report as text lines (what ``micview import-labels`` prints); lists stop after ``shown`` rows."""
    out = summary_lines(r)
    out += [f"  {renamed_text(c, t)}" for c, t in r.renamed.items()]
    out += [f"  {ignored_text(c, why)}" for c, why in r.ignored.items()]
    if r.conflicts:
        out.append(f"  {conflicts_heading(r, last_wins)}:")
        out += [f"    {conflict_text(c)}" for c in r.conflicts[:shown]]
        if len(r.conflicts) > shown:
            out.append(f"    ... {len(r.conflicts)} in all")
    out += [f"  {unmatched_text(v, line)}" for v, line in _with_lines(r.unmatched, r.unmatched_lines)[:shown]]
    if len(r.unmatched) > shown:
        out.append(f"  ... {len(r.unmatched)} unmatched rows in all")
    out += [f"  {ambiguous_text(v, line)}" for v, line in _with_lines(r.ambiguous, r.ambiguous_lines)[:shown]]
    if len(r.ambiguous) > shown:
        out.append(f"  ... {len(r.ambiguous)} ambiguous rows in all")
    if (n := rows_naming_other_folders(r)) and not r.match_names:
        out.append(f"  {other_folders_text(n, match_names)}")
    if r.long_rows:
        out.append(f"  {long_rows_text(r)}")
    return out


def _with_lines(values: list[str], lines: list[int]) -> list[tuple[str, int | None]]:
    """(value, its CSV line) pairs; no line where a report was built without them."""
    if len(lines) != len(values):
        return [(v, None) for v in values]
    return list(zip(values, lines, strict=True))
