"""Label CSVs in and out of the window: File ▸ Import labels…, File ▸ Export (all, selection, shown).

The same CSV contract as ``micview import-labels`` / ``micview export`` (:mod:`micview.core.csv_io`); both run
as jobs with their own project connection, and the views refresh from the session's signals when they end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from micview.gui import background
from micview.gui.controllers.safety import refuse_write
from micview.gui.session import Session
from micview.gui.workers import Job

SCOPES = ("all", "selection", "shown")


def report_text(report: Any, name: str) -> str:
    """One line about a label import: rows matched, labels written per task, metadata columns, misses."""
    tasks = ", ".join(f"{t} ({n:,} new)" for t, n in report.tasks.items()) or "no label columns"
    text = f"{name}: {report.matched:,} of {report.rows:,} rows matched images · labels: {tasks}"
    if report.fields:
        text += f" · {len(report.fields)} metadata column{'s' * (len(report.fields) != 1)}"
    missed = [*report.unmatched, *report.ambiguous]
    if missed:
        shown = ", ".join(m or "(empty)" for m in missed[:3])
        text += f" · {len(missed):,} rows matched no single image ({shown}{' …' if len(missed) > 3 else ''})"
    return text


class LabelFilesController:
    def __init__(self, session: Session) -> None:
        self.session = session

    def preview(self, csv_path: Path) -> tuple[list[str], list[str], int]:
        """(columns, the columns micview would take as label tasks, number of rows) of a CSV, for the dialog."""
        from micview.core.csv_io import guess_tasks, read_csv

        header, rows = read_csv(csv_path)
        return header, guess_tasks(header, rows), len(rows)

    def import_labels(self, csv_path: Path, tasks: list[str] | None = None) -> Job | None:
        """Read labels (``tasks``: the columns to take as tasks; None guesses) and metadata from a CSV."""
        project = self.session.project
        if project is None or refuse_write(self.session, f"Importing labels from {csv_path.name}"):
            return None
        path = project.path
        return self.session.jobs.start(
            f"Import labels from {csv_path.name}", lambda: background.import_labels(path, csv_path, tasks),
            on_result=lambda report: self._on_imported(report, csv_path.name),
            on_error=lambda msg, details: self.session.errors.report("Cannot import the labels", msg, details),
        )  # fmt: skip

    def _on_imported(self, report: Any, name: str) -> None:
        from micview.gui.controllers.labelling import LabellingController

        if self.session.project is None:
            return
        self.session.tasks_changed.emit()
        self.session.fields_changed.emit()
        for task in report.tasks:
            self.session.labels_changed.emit(task)
        labelling = LabellingController(self.session)
        if not self.session.task.name and report.tasks:
            labelling.set_task(next(iter(report.tasks)))
        else:
            labelling.refresh_task()
        self.session.notify(report_text(report, name))

    def ids_for(self, scope: str) -> list[int] | None:
        """The images of ``scope``: None for all, the selection, or what the browser shows (filtered)."""
        if scope == "selection":
            return list(self.session.selection.ids)
        if scope == "shown":
            return [int(i) for i in self.session.shown.ids]
        if scope == "all":
            return None
        raise ValueError(f"unknown export scope {scope!r}; one of {', '.join(SCOPES)}")

    def export(self, out: Path, scope: str = "all") -> Job | None:
        """Write the CSV of ``scope`` (see :meth:`ids_for`) to ``out``."""
        project = self.session.project
        if project is None:
            return None
        ids = self.ids_for(scope)
        if ids is not None and not ids:
            what = "selected" if scope == "selection" else "shown"
            self.session.errors.report("Nothing to export", f"No image is {what}.", popup=False)
            return None
        path = project.path
        return self.session.jobs.start(
            f"Export {out.name}", lambda: background.export_labels(path, out, ids),
            on_result=lambda n: self.session.notify(f"Wrote {n:,} rows to {out}."),
            on_error=lambda msg, details: self.session.errors.report("Export failed", msg, details),
        )  # fmt: skip
