"""The browser's text filter: words match file names; ``column:value`` matches any column, Qt-free.

Columns are a file fact (``format:tif``, ``folder:steel``, ``width>1000``), instrument metadata
(``detector:ETD``, ``pixel_size_nm<5``), a label task (``technique:SEM`` — the user's label), its prediction
(``technique_pred:SEM``, ``technique_score>0.8``) or an imported metadata column (``contributor:clyne``).
``:`` matches a part of the value (case-insensitive), ``=`` the whole value, ``>``/``<`` numbers. Values with
spaces go in quotes: ``technique:"reflected light"``. When nothing matches, :func:`explain` says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from micview.core.store import ImageRow

# column → ImageRow attribute, for names users type ("file" and "name" both mean the file name)
ROW_COLUMNS = {
    "name": "name", "file": "name", "path": "path", "folder": "folder", "format": "format", "width": "width",
    "height": "height", "frames": "frames", "channels": "channels", "dtype": "dtype", "bit_depth": "bit_depth",
    "mode": "mode", "size_bytes": "size_bytes", "pixel_size_nm": "pixel_size_nm",
    "pixel_size_y_nm": "pixel_size_y_nm", "voltage_kv": "voltage_kv", "magnification": "magnification",
    "hfw_um": "hfw_um", "working_distance_mm": "working_distance_mm", "detector": "detector",
    "instrument": "instrument", "acquired_at": "acquired_at",
}  # fmt: skip
_TOKEN = re.compile(r'(?:[^\s":<>=]+\s*[:<>=]\s*"[^"]*"?)|(?:"[^"]*"?)|\S+')
_TERM = re.compile(r'^([^\s":<>=]+)\s*([:<>=])\s*(.*)$')

# values by image id of a column that is not a file fact (task, prediction, field); None: no such column
ColumnLookup = Callable[[str], dict[int, Any] | None]


@dataclass(frozen=True)
class Term:
    """One word of the filter: ``column`` None matches file names."""

    column: str | None
    op: str
    value: str

    def __str__(self) -> str:
        return self.value if self.column is None else f"{self.column}{self.op}{self.value}"


def parse(text: str) -> list[Term]:
    """Split the filter into terms; quotes keep spaces together."""
    terms = []
    for token in _TOKEN.findall(text):
        m = _TERM.match(token)
        if m:
            if m.group(3).strip('"'):  # "technique:" alone: still being typed, filters nothing yet
                terms.append(Term(m.group(1).lower(), m.group(2), m.group(3).strip('"').lower()))
        elif token.strip('"'):
            terms.append(Term(None, ":", token.strip('"').lower()))
    return terms


def value_matches(value: Any, op: str, wanted: str) -> bool:
    if value is None:
        return False
    if op in "<>":
        try:
            number, limit = float(value), float(wanted)
        except (TypeError, ValueError):
            return False
        return number > limit if op == ">" else number < limit
    text = str(value).lower()
    return text == wanted if op == "=" else wanted in text


class RowMatcher:
    """Decides, row by row, whether an image passes every term; unknown columns match nothing."""

    def __init__(self, terms: list[Term], lookup: ColumnLookup) -> None:
        self.terms = terms
        self.columns: dict[str, dict[int, Any] | None] = {}
        for t in terms:
            if t.column is not None and t.column not in ROW_COLUMNS and t.column not in self.columns:
                self.columns[t.column] = lookup(t.column)

    @property
    def unknown(self) -> list[str]:
        return [c for c, values in self.columns.items() if values is None]

    def __call__(self, row: ImageRow) -> bool:
        return all(self.term(row, t) for t in self.terms)

    def term(self, row: ImageRow, t: Term) -> bool:
        """Whether ``row`` passes the one term ``t``."""
        if t.column is None:
            return t.value in row.name.lower()
        if t.column in ROW_COLUMNS:
            return value_matches(getattr(row, ROW_COLUMNS[t.column]), t.op, t.value)
        values = self.columns.get(t.column)
        return values is not None and value_matches(values.get(row.id), t.op, t.value)


def explain(matcher: RowMatcher, rows: list[ImageRow], known: list[str], examples: Callable[[str], list[str]]) -> str:
    """Why a filter shows nothing: an unknown column (and the known ones), the word that matches no image (and
    the values its column has), or that each word matches some images but none matches them all."""
    if matcher.unknown:
        names = ", ".join(known[:14]) + (" …" if len(known) > 14 else "")
        return f"No column named “{matcher.unknown[0]}”. Columns: {names}."
    for t in matcher.terms:
        if any(matcher.term(row, t) for row in rows):
            continue
        if t.column is None:
            return f"No file name contains “{t.value}” (use column:value to filter by a column)."
        seen = examples(t.column)
        shown = "; ".join(seen[:4]) + (" …" if len(seen) > 4 else "")
        values = f" Its values include: {shown}." if seen else f" No image has a value of {t.column}."
        return f"No image has {t.column} {_op_text(t.op)} “{t.value}”.{values}"
    return "Each word matches some images, but no image matches all of them (words match file names)."


def _op_text(op: str) -> str:
    return {":": "containing", "=": "equal to", ">": "above", "<": "below"}[op]
