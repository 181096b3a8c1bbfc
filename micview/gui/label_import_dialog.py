"""The report of a label import: what every row and column of the CSV became, and the two ways to import again.

Lists, each with its CSV line numbers: rows for one image that disagree (with both values; not written unless the
user asks for the last of each), rows that matched no image or several, columns kept under another name
(``csv_magnification``) or not imported (and why), rows with cells beyond the header. The words are the ones
``micview import-labels`` prints (:mod:`micview.core.label_report`); the dialog only lays them out.

"Write the last row of each" imports the same CSV again with ``last_wins``; "Match by file name" with
``match_names``, offered when rows name folders this project does not have (a CSV written on another computer).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.core.label_import import LabelImportReport
from micview.core.label_report import (
    conflict_values,
    lines_text,
    report_lines,
    rows_naming_other_folders,
    summary_lines,
)  # fmt: skip
from micview.gui.controllers.label_files import LabelFilesController, LabelImport
from micview.gui.session import Session
from micview.gui.widgets import wrapping_label

LAST_WINS = "Write the last row of each"
MATCH_NAMES = "Match by file name"
Rerun = Callable[[bool, bool], object]  # (last_wins, match_names) -> a job, or None when refused


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' * (n != 1)}"


class LabelImportDialog(QDialog):
    """Shows one :class:`LabelImport`; ``show_outcome`` replaces it (after importing again)."""

    def __init__(self, rerun: Rerun, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rerun = rerun
        self.outcome: LabelImport | None = None
        self.resize(900, 560)
        self.summary = wrapping_label("")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Line", "In the CSV", "What happened"])
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setRootIsDecorated(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.tree.setColumnWidth(0, 70)
        self.tree.setColumnWidth(1, 340)
        self.hint = wrapping_label("")
        self.last_wins_button = QPushButton(LAST_WINS)
        self.last_wins_button.setToolTip("Import the CSV again; of the rows for one image that disagree, the last "
                                         "is written (the others stay listed)")  # fmt: skip
        self.match_names_button = QPushButton(MATCH_NAMES)
        self.match_names_button.setToolTip("Import the CSV again, joining rows whose folders this project does not "
                                           "have by file name (only where the name is unique)")  # fmt: skip
        self.copy_button = QPushButton("Copy report")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.last_wins_button, self.match_names_button, self.copy_button):
            button.setAutoDefault(False)  # Return closes the report; it never imports again
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.last_wins_button.clicked.connect(lambda: self._again(last_wins=True))
        self.match_names_button.clicked.connect(lambda: self._again(match_names=True))
        self.copy_button.clicked.connect(lambda: QApplication.clipboard().setText(self.as_text()))
        col = QVBoxLayout(self)
        col.addWidget(self.summary)
        col.addWidget(self.tree, 1)
        col.addWidget(self.hint)
        col.addWidget(buttons)

    # -- content ---------------------------------------------------------------------------------------------------
    def show_outcome(self, outcome: LabelImport) -> None:
        self.outcome = outcome
        r = outcome.report
        self.setWindowTitle(f"Labels imported from {outcome.csv.name}")
        self.summary.setText(self._summary(r))
        self.tree.clear()
        self._fill(r)
        self.tree.expandAll()
        self.hint.setText(self._hint(r))
        self.hint.setVisible(bool(self.hint.text()))
        self.last_wins_button.setVisible(bool(r.conflicts) and not r.last_wins)
        self.match_names_button.setVisible(bool(rows_naming_other_folders(r)) and not r.match_names)
        for button in (self.last_wins_button, self.match_names_button):
            button.setEnabled(True)

    @staticmethod
    def _summary(r: LabelImportReport) -> str:
        text = " ".join(line.strip() for line in summary_lines(r)[:1])
        written = "; ".join(f"“{t}”: {_plural(n, 'label')} written" for t, n in r.tasks.items())
        parts = [text, written] if written else [text, "No label column was imported."]
        if r.fields:
            parts.append(f"Metadata columns: {', '.join(r.fields)}.")
        if r.notes:
            parts.append(f"{_plural(r.notes, 'note')} written.")
        if r.tags:
            parts.append(f"{_plural(r.tags, 'tag')} added.")
        if any(r.changes.values()):
            parts.append("Edit ▸ Undo puts back the labels this import replaced.")
        return " ".join(p if p.endswith(".") else p + "." for p in parts)

    def _fill(self, r: LabelImportReport) -> None:
        if r.conflicts:
            what = "the last of each written" if r.last_wins else "none of them written"
            group = self._group(f"Rows that disagree: {_plural(len(r.conflicts), 'image')}, {what}")
            for c in r.conflicts:
                self._row(group, lines_text(c.lines), c.file, conflict_values(c))
        if r.unmatched:
            group = self._group(f"Rows that matched no image ({len(r.unmatched):,}): not written")
            lines = r.unmatched_lines if len(r.unmatched_lines) == len(r.unmatched) else [None] * len(r.unmatched)
            for value, line in zip(r.unmatched, lines, strict=True):
                folders = "/" in value.replace("\\", "/") and not r.match_names
                why = "no image at this path (its folders are not in this project)" if folders else "no such image"
                self._row(group, "" if line is None else str(line), value or "(empty)", why)
        if r.ambiguous:
            group = self._group(f"Rows that could mean several images ({len(r.ambiguous):,}): not written")
            lines = r.ambiguous_lines if len(r.ambiguous_lines) == len(r.ambiguous) else [None] * len(r.ambiguous)
            for value, line in zip(r.ambiguous, lines, strict=True):
                self._row(group, "" if line is None else str(line), value, "use the path relative to the project")
        if r.renamed:
            group = self._group(f"Columns kept under another name ({len(r.renamed)})")
            for column, target in r.renamed.items():
                self._row(group, "", column, f"kept as “{target}”: it differs from the {column} micview read "
                                             "from the files")  # fmt: skip
        if r.ignored:
            group = self._group(f"Columns not imported ({len(r.ignored)})")
            for column, why in r.ignored.items():
                self._row(group, "", column, why)
        if r.long_rows:
            group = self._group(f"Rows with more cells than the header ({len(r.long_rows):,})")
            self._row(group, lines_text(r.long_rows, 30), "", "the cells beyond the header were not imported")
        if not self.tree.topLevelItemCount():
            self._group("Every row matched one image and every column was imported.")

    def _group(self, text: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, ["", text])
        item.setFirstColumnSpanned(True)
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        item.setText(0, text)
        return item

    @staticmethod
    def _row(group: QTreeWidgetItem, line: str, value: str, what: str) -> None:
        item = QTreeWidgetItem(group, [line, value, what])
        for k, text in enumerate((line, value, what)):
            item.setToolTip(k, text)

    @staticmethod
    def _hint(r: LabelImportReport) -> str:
        hints = []
        if r.conflicts and not r.last_wins:
            hints.append(f"Rows for one image that disagree were not written: fix the CSV and import it again, or "
                         f"“{LAST_WINS}” to take the last row of each.")  # fmt: skip
        if (n := rows_naming_other_folders(r)) and not r.match_names:
            hints.append(f"{_plural(n, 'row')} name folders this project does not have. If the CSV was written on "
                         f"another computer with the same files, “{MATCH_NAMES}” joins them by file name (where "
                         "the name is unique).")  # fmt: skip
        return " ".join(hints)

    def items(self) -> dict[str, list[tuple[str, str, str]]]:
        """Group title -> its rows (line, value, what happened): what the dialog lists, for tests and copying."""
        out: dict[str, list[tuple[str, str, str]]] = {}
        groups = (self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount()))
        for group in filter(None, groups):
            rows = filter(None, (group.child(k) for k in range(group.childCount())))
            out[group.text(0)] = [(c.text(0), c.text(1), c.text(2)) for c in rows]
        return out

    def as_text(self) -> str:
        if self.outcome is None:
            return ""
        lines = report_lines(self.outcome.report, last_wins=f"“{LAST_WINS}”", match_names=f"“{MATCH_NAMES}”",
                             shown=sys.maxsize)  # fmt: skip
        return f"Labels imported from {self.outcome.csv}\n" + "\n".join(lines)

    # -- importing again ---------------------------------------------------------------------------------------------
    def _again(self, *, last_wins: bool = False, match_names: bool = False) -> None:
        if self.outcome is None:
            return
        r = self.outcome.report
        job = self.rerun(last_wins or r.last_wins, match_names or r.match_names)
        if job is None:
            return  # refused (read-only, project closed): the reason was reported
        for button in (self.last_wins_button, self.match_names_button):
            button.setEnabled(False)
        self.hint.setText(f"Importing {self.outcome.csv.name} again…")
        self.hint.setVisible(True)


class LabelReports(QObject):
    """The window's side of label imports: shows each report that needs a look (or refreshes the open dialog),
    ``show()`` shows the latest again (the notice's "Show the report…"); a project change closes it."""

    def __init__(self, session: Session, parent: QWidget) -> None:
        super().__init__(parent)
        self.session, self.parent_widget = session, parent
        self.latest: LabelImport | None = None
        self.dialog: LabelImportDialog | None = None
        session.labels_imported.connect(self._on_labels_imported)
        session.project_changed.connect(self._on_project_changed)

    def _on_labels_imported(self, outcome: LabelImport) -> None:
        self.latest = outcome
        if outcome.needs_a_look or (self.dialog is not None and self.dialog.isVisible()):
            self.show()

    def _on_project_changed(self, _project: object) -> None:
        self.latest = None
        if self.dialog is not None:
            self.dialog.close()

    def show(self) -> None:
        outcome = self.latest
        if outcome is None:
            return
        if self.dialog is None:
            self.dialog = LabelImportDialog(self._rerun, self.parent_widget)
        self.dialog.show_outcome(outcome)
        self.dialog.show()
        self.dialog.raise_()

    def _rerun(self, last_wins: bool, match_names: bool) -> object:
        outcome = self.latest
        if outcome is None:
            return None
        files = LabelFilesController(self.session)
        return files.import_labels(outcome.csv, outcome.tasks, last_wins=last_wins, match_names=match_names)
