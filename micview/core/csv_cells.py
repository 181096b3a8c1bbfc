"""CSV text in and out, exactly: every cell comes back as it was written.

Writing: a cell a spreadsheet would run as a formula (it starts with ``= + - @``, a tab or a carriage return)
gets a leading ``'``, and so does a cell that really starts with ``'``. Reading removes exactly one such
``'`` (when the next character is one of those, or another ``'``) and nothing else: no spaces are trimmed, so
a label ``" crystals "`` stays what it was.

Reading is tolerant of spreadsheets' habits (a BOM, ``;`` or tab as the delimiter, Windows-1252 text) and
reports what it cannot read instead of dropping it: a header with the same column twice is refused, and rows
with more cells than the header are listed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micview.core.errors import CsvError

KEY = "file"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_START = (*FORMULA_START, "'")
_DELIMITERS = (",", ";", "\t")
_MODEL_SUFFIXES = ("_pred", "_score", "_top2", "_model")


def csv_cell(value: Any) -> str:
    """One cell as text; strings a spreadsheet would run as a formula (or that start with ``'``) get a ``'``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_ESCAPED_START) else text


def unescape_cell(value: str) -> str:
    """The text :func:`csv_cell` was given: one protective ``'`` removed, nothing else changed."""
    if len(value) > 1 and value[0] == "'" and value[1] in _ESCAPED_START:
        return value[1:]
    return value


@dataclass
class CsvTable:
    """A CSV as read: the header, one dict per row, and where each row starts in the file."""

    path: Path
    header: list[str]
    rows: list[dict[str, str]]
    lines: list[int]  # line number (1-based) where each row starts
    long_rows: list[int] = field(default_factory=list)  # lines with non-empty cells beyond the header
    unnamed: list[int] = field(default_factory=list)  # 1-based positions of nameless columns that hold data


def read_table(path: Path, key: str | None = None) -> CsvTable:
    """Read ``path``; with ``key``, its delimiter is the one whose header has that column."""
    text = _decode(path)
    delimiter = _delimiter(text, key)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw_header = next(reader, None)
    if not raw_header or not any(h.strip() for h in raw_header):
        raise CsvError(f"{path}: the file is empty or has no header row.")
    header = [unescape_cell(h) for h in raw_header]
    named = [h for h in header if h]
    if twice := sorted({h for h in named if named.count(h) > 1}):
        raise CsvError(f"{path}: the column(s) {', '.join(map(repr, twice))} appear more than once; rename one.")
    table = CsvTable(path, named, [], [])
    unnamed: set[int] = set()
    start = reader.line_num + 1
    for cells in reader:
        if cells:
            table.rows.append(_row(header, cells, table, start, unnamed))
            table.lines.append(start)
        start = reader.line_num + 1
    table.unnamed = sorted(unnamed)
    return table


def _row(header: list[str], cells: list[str], table: CsvTable, line: int, unnamed: set[int]) -> dict[str, str]:
    row = {}
    for i, h in enumerate(header):
        value = unescape_cell(cells[i]) if i < len(cells) else ""
        if h:
            row[h] = value
        elif value:
            unnamed.add(i + 1)
    if any(c for c in cells[len(header) :]):
        table.long_rows.append(line)
    return row


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV (see :func:`read_table` for the details of what was read)."""
    table = read_table(path)
    return table.header, table.rows


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CsvError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvError(f"{path}: cannot decode the file as UTF-8 or Windows-1252 text.")


def _delimiter(text: str, key: str | None) -> str:
    """The delimiter whose header row holds ``key``, else the one that splits the header into most columns.

    Only the header is looked at: a ``;`` or a tab inside a label must never change how rows are split.
    """
    best, most = ",", 0
    for d in _DELIMITERS:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=d), [])
        names = [unescape_cell(h) for h in header]
        if key is not None and (key in names or key in (n.strip() for n in names)):
            return d
        if len(header) > most:
            best, most = d, len(header)
    return best


def key_column(header: Sequence[str], key: str) -> str | None:
    """The header's name for ``key``: exactly, or with stray spaces around it (a hand-edited header)."""
    if key in header:
        return key
    return next((h for h in header if h.strip() == key), None)


def model_column_task(name: str, header: Sequence[str]) -> str | None:
    """The task ``T`` whose model output column this is (``T_pred``, ``T_score``, ``T_p_<class>``, ``T_top2``,
    ``T_model``), when ``T`` is a column of the same header; ``None`` for any other column, so a user's own
    ``marco_score`` or ``microscope_model`` is data."""
    for suffix in _MODEL_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in header:
            return name[: -len(suffix)]
    start = name.find("_p_")
    while start > 0:
        if name[:start] in header:
            return name[:start]
        start = name.find("_p_", start + 1)
    return None
