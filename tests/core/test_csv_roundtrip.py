"""Property tests: whatever text a user or a model puts in a project, export -> import brings back exactly that."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micview.core.csv_cells import FORMULA_START, KEY, csv_cell, model_column_task, read_table, unescape_cell
from micview.core.csv_io import export_csv, import_labels, write_csv_atomic
from micview.core.label_import import BUILT_IN
from micview.core.store import Project

# Any Unicode text a file can hold (lone surrogates cannot be written as UTF-8, so no program can put them in
# a CSV); control characters, NUL, quotes, delimiters, line breaks and spaces all included.
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
cell_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)
tag_text = cell_text.filter(lambda t: t == t.strip() and t and ";" not in t)


@given(text)
def test_a_cell_is_neutralised_for_spreadsheets_and_read_back_exactly(value: str) -> None:
    written = csv_cell(value)
    assert not written.startswith(FORMULA_START)
    assert unescape_cell(written) == value


@given(st.lists(cell_text, min_size=1, max_size=4, unique=True), st.lists(st.lists(text, min_size=4, max_size=4)))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_table_is_read_back_exactly(names: list[str], rows: list[list[str]]) -> None:
    header = [KEY, *(n for n in names if n != KEY)]
    rows = [[f"img{i}.png", *r[: len(header) - 1]] for i, r in enumerate(rows)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        write_csv_atomic(path, [csv_cell(h) for h in header], ([csv_cell(c) for c in r] for r in rows))
        table = read_table(path, KEY)
    assert table.header == header
    assert [[r[h] for h in header] for r in table.rows] == rows
    assert table.long_rows == [] and table.unnamed == []


def _usable(names: list[str]) -> bool:
    """Task and column names that can live side by side in one CSV (the contract reserves the others)."""
    return (
        len(set(names)) == len(names)
        and all(n and n != KEY and n not in BUILT_IN for n in names)
        and all(model_column_task(n, names) is None for n in names)
    )


project_content = st.fixed_dictionaries(
    {
        "names": st.lists(cell_text, min_size=3, max_size=3).filter(_usable),  # two tasks, one metadata column
        "labels": st.lists(st.tuples(cell_text, cell_text), min_size=3, max_size=3),
        "values": st.lists(cell_text, min_size=3, max_size=3),
        "notes": st.lists(cell_text, min_size=3, max_size=3),
        "tags": st.lists(st.lists(tag_text, max_size=3, unique=True), min_size=3, max_size=3),
    }
)


@pytest.mark.slow
@given(project_content)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_export_then_import_restores_labels_metadata_notes_and_tags(content: dict) -> None:
    task_a, task_b, column = content["names"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with Project.create(root / "p.micview") as p:
            ids = [p.images.upsert(root / "imgs" / f"{i}.png", {"status": "ok"}) for i in range(3)]
            for i, (a, b), value, note, tags in zip(
                ids, content["labels"], content["values"], content["notes"], content["tags"], strict=True
            ):
                p.labels.set([i], task_a, a)
                p.labels.set([i], task_b, b)
                p.fields.set_many({i: {column: value}})
                p.fields.set_note(i, note)
                for tag in tags:
                    p.fields.add_tags([i], tag)
            export_csv(p, root / "out.csv")
            expected = (
                p.labels.labels(task_a), p.labels.labels(task_b), p.fields.column(column),
                {i: p.fields.note(i) for i in ids}, p.fields.tags(),
            )  # fmt: skip
        with Project.create(root / "q.micview") as q:
            for i in range(3):
                q.images.upsert(root / "imgs" / f"{i}.png", {"status": "ok"})
            report = import_labels(q, root / "out.csv", tasks=[task_a, task_b])
            got = (
                q.labels.labels(task_a), q.labels.labels(task_b), q.fields.column(column),
                {i: q.fields.note(i) for i in ids}, q.fields.tags(),
            )  # fmt: skip
    assert (report.matched, report.conflicts, report.unmatched) == (3, [], [])
    assert got == expected
