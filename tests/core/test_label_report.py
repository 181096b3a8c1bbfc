"""The words of a label import's report (shared by the CLI and the window): lines of unmatched rows, conflicts
with both values, and what each task's labels were before the import (what an undo puts back)."""

from __future__ import annotations

from pathlib import Path

from micview.core.csv_io import import_labels
from micview.core.label_report import report_lines, rows_naming_other_folders
from micview.core.store import Project


def test_report_lines_name_lines_values_and_the_way_to_act(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.micview") as p:
        a, b = (p.images.upsert(tmp_path / "d" / n, {"status": "ok"}) for n in ("a.png", "b.png"))
        p.labels.set_many("k", {a: "mine"})
        src = tmp_path / "l.csv"
        src.write_text("file,k\nd/a.png,x\nd/a.png,y\nother/c.png,x\nd/b.png,z\n", encoding="utf-8")
        r = import_labels(p, src, tasks=["k"])
        assert (r.unmatched, r.unmatched_lines) == (["other/c.png"], [4]) and rows_naming_other_folders(r) == 1
        assert r.changes == {"k": {b: (None, "z")}} and p.labels.labels("k")[a] == "mine"
        text = "\n".join(report_lines(r, last_wins="“Last”", match_names="“Names”"))
        assert "d/a.png (lines 2, 3): k: 'x' / 'y'" in text and "use “Last” to take the last row" in text
        assert "no image for: other/c.png (line 4)" in text and "“Names” joins them by file name" in text
        r = import_labels(p, src, tasks=["k"], last_wins=True)
        assert r.changes == {"k": {a: ("mine", "y")}}
        assert "the last row of each was written (“Last”)" in "\n".join(report_lines(r, last_wins="“Last”"))
