"""Plain-text tables for the terminal: what `info`, `plates`, `tasks` and `models list` print."""

from __future__ import annotations

from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[object]], *, indent: str = "  ") -> str:
    """Columns padded to their widest cell; numbers right-aligned, text left-aligned; no trailing spaces."""
    cells = [[_text(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    numeric = [bool(rows) and all(isinstance(r[i], int | float) for r in rows) for i in range(len(header))]
    lines = [_line(header, widths, [False] * len(header), indent)]
    lines += [_line(r, widths, numeric, indent) for r in cells]
    return "\n".join(lines)


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _line(cells: Sequence[str], widths: list[int], right: list[bool], indent: str) -> str:
    parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
    return (indent + "  ".join(parts)).rstrip()
