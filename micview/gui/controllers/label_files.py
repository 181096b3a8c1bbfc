"""Label CSVs in and out of the window: File ▸ Import labels…, File ▸ Export (all, selection, shown).

The same CSV contract as ``micview import-labels`` / ``micview export`` (:mod:`micview.core.csv_io`); both run
as jobs with their own project connection, and the views refresh from the session's signals when they end.
An import's whole report (rows that disagree, rows that matched no image, columns renamed or not imported) goes
to ``session.labels_imported`` as a :class:`LabelImport`, which the window shows; importing again with
``last_wins`` or ``match_names`` is the same call. The labels an import wrote are one undoable step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QUndoCommand

from micview.core.label_import import LabelImportReport
from micview.gui import background
from micview.gui.controllers.labelling import SetLabels
from micview.gui.controllers.safety import refuse_write
from micview.gui.session import Session
from micview.gui.workers import Job

SCOPES = ("all", "selection", "shown")


@dataclass(frozen=True)
class LabelImport:
    """One finished import: the CSV, the columns taken as tasks (None: guessed), and the core's report."""

    csv: Path
    tasks: list[str] | None
    report: LabelImportReport

    @property
    def needs_a_look(self) -> bool:
        """Rows of the CSV that were not written, or columns kept under another name: the window shows the report."""
        r = self.report
        return bool(r.conflicts and not r.last_wins) or bool(r.unmatched or r.ambiguous or r.long_rows or r.renamed)


def report_text(report: LabelImportReport, name: str) -> str:
    """One line about a label import: rows matched, labels written per task, metadata columns, misses."""
    tasks = ", ".join(f"{t} ({n:,} new)" for t, n in report.tasks.items()) or "no label columns"
    text = f"{name}: {report.matched:,} of {report.rows:,} rows matched images · labels: {tasks}"
    if report.fields:
        text += f" · {len(report.fields)} metadata column{'s' * (len(report.fields) != 1)}"
    if report.conflicts:
        n = len(report.conflicts)
        done = "the last row written" if report.last_wins else "not written"
        text += f" · {n:,} image{'s' * (n != 1)} with rows that disagree ({done})"
    missed = [*report.unmatched, *report.ambiguous]
    if missed:
        shown = ", ".join(m or "(empty)" for m in missed[:3])
        text += f" · {len(missed):,} rows matched no single image ({shown}{' …' if len(missed) > 3 else ''})"
    if report.ignored or report.renamed:
        n = len(report.ignored) + len(report.renamed)
        text += f" · {n} column{'s' * (n != 1)} not imported as named"
    return text


class ImportedLabels(QUndoCommand):
    """The labels an import wrote (already in the project): undo puts back what each image had before, redo
    writes the imported ones again. Both append to the label history, so nothing is ever lost."""

    def __init__(self, session: Session, changes: dict[str, dict[int, tuple[str | None, str]]], text: str) -> None:
        super().__init__(text)
        self.parts: list[SetLabels] = []
        for task, changed in changes.items():
            before = {i: old for i, (old, _) in changed.items()}
            part = SetLabels(session, task, {i: new for i, (_, new) in changed.items()}, text, before=before)
            self.parts.append(part)
        self._written = True  # QUndoStack.push calls redo(): the import already wrote these

    def redo(self) -> None:
        if self._written:
            self._written = False
            return
        for part in self.parts:
            part.redo()

    def undo(self) -> None:
        for part in reversed(self.parts):
            part.undo()


class LabelFilesController:
    def __init__(self, session: Session) -> None:
        self.session = session

    def preview(self, csv_path: Path) -> tuple[list[str], list[str], int]:
        """(columns, the columns micview would take as label tasks, number of rows) of a CSV, for the dialog."""
        from micview.core.csv_io import guess_tasks, read_csv

        header, rows = read_csv(csv_path)
        return header, guess_tasks(header, rows), len(rows)

    def import_labels(
        self, csv_path: Path, tasks: list[str] | None = None, *, last_wins: bool = False, match_names: bool = False
    ) -> Job | None:
        """Read labels (``tasks``: the columns to take as tasks; None guesses) and metadata from a CSV.

        Rows for one image that disagree are not written unless ``last_wins``; ``match_names`` joins rows whose
        folders are not in the project by file name (when unique). On a read-only project nothing is read or
        written (the refusal says why); a CSV that cannot be imported writes nothing (one transaction).
        """
        project = self.session.project
        if project is None or refuse_write(self.session, f"Importing labels from {csv_path.name}"):
            return None
        path = project.path
        return self.session.jobs.start(
            f"Import labels from {csv_path.name}",
            lambda: background.import_labels(path, csv_path, tasks, last_wins=last_wins, match_names=match_names),
            on_result=lambda report: self._on_imported(LabelImport(csv_path, tasks, report), path),
            on_error=lambda msg, details: self.session.errors.report("Cannot import the labels", msg, details),
        )  # fmt: skip

    def _on_imported(self, outcome: LabelImport, path: Path) -> None:
        from micview.gui.controllers.labelling import LabellingController

        if self.session.project is None or self.session.project.path != path:
            return  # the project was closed (or another opened) meanwhile; the import itself is in its file
        report = outcome.report
        if any(report.changes.values()):
            self.session.undo_stack.push(ImportedLabels(self.session, report.changes,
                                                        f"import labels from {outcome.csv.name}"))  # fmt: skip
        self.session.tasks_changed.emit()
        self.session.fields_changed.emit()
        for task in report.tasks:  # the views update the images the import labelled, not the whole task
            self.session.labels_written(task, {i: new for i, (_old, new) in report.changes.get(task, {}).items()})
        labelling = LabellingController(self.session)
        if not self.session.task.name and report.tasks:
            labelling.set_task(next(iter(report.tasks)))
        else:
            labelling.refresh_task()
        self.session.notify(report_text(report, outcome.csv.name), (("Show the report…", "label_report"),))
        self.session.labels_imported.emit(outcome)

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
