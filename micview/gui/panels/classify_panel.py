"""The Classify side-panel tab: choose a task and a model, run, read the scores of the current image, accept
predictions as labels (undoable), review what to label next, and see the cross-validated confusion matrix.

It receives the :class:`~micview.gui.session.Session`, shows ``session.classify`` (scores, status, what runs)
and acts through the :class:`~micview.gui.controllers.classify.ClassifyController`. With **Live** on, every
labelling action of the chosen task retrains quietly in memory. Made to fit the side panel's default width:
buttons in two columns, text that wraps, tables that scroll.
Plug in with :func:`register` (``micview.gui.side_panel._BUILTIN_PANELS``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.gui.controllers.classify import MODELS, ClassifyController, Request, SuggestionRow
from micview.gui.controllers.models import ModelsController
from micview.gui.session import Session
from micview.gui.widgets import compact_combo, wrapping_label

ID_ROLE = Qt.ItemDataRole.UserRole


def small_table(columns: int, headers: list[str] | None = None) -> QTableWidget:
    table = QTableWidget(0, columns)
    if headers:
        table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    table.verticalHeader().setDefaultSectionSize(22)
    table.setMinimumHeight(90)
    return table


class ClassifyPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.ctl = ClassifyController(session)
        self.task_box, self.model_box = compact_combo(8), compact_combo(8, editable=True)
        self.grouped, self.live = QCheckBox("Label groups"), QCheckBox("Live")
        self.grouped.setToolTip("Learn the task's coarse groups (e.g. techniques → SEM / TEM / optical)")
        self.live.setToolTip("Retrain on every labelling action (scores shown here, not saved until Run)")
        self.run_button, self.accept_button = QPushButton("Run"), QPushButton("Accept for selection")
        self.accept_button.setToolTip("The selected images get the predicted class as their label (Ctrl+Z undoes)")
        self.suggest_button, self.eval_button = QPushButton("Suggest"), QPushButton("Evaluate")
        self.status = wrapping_label(
            "Run learns your labels of the task (few-shot; zero-shot from prompts with text models) and scores every "
            "image. Evaluate cross-validates; Suggest lists what to label next."
        )
        self.scores = small_table(2, ["class", "score"])
        self.scores.setMaximumHeight(150)
        self.scores.verticalHeader().hide()
        self.scores.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.suggestions = suggestion_table()
        self.suggested: list[SuggestionRow] = []
        self.suggested_task = ""
        self.confusion = small_table(0)
        self.confusion.setMinimumHeight(160)
        self.confusion.setMaximumHeight(420)
        self._layout()
        self._connect()
        self.refresh()

    def _layout(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Task", self.task_box)
        form.addRow("Model", self.model_box)
        buttons = QGridLayout()
        buttons.addWidget(self.grouped, 0, 0)
        buttons.addWidget(self.live, 0, 1)
        for k, w in enumerate((self.run_button, self.eval_button, self.suggest_button, self.accept_button)):
            buttons.addWidget(w, 1 + k // 2, k % 2)
        root = QVBoxLayout(self)
        root.addLayout(form)
        root.addLayout(buttons)
        root.addWidget(self.status)
        for title, widget in (("Scores of the current image", self.scores),
                              ("Label next, and why (select rows to select the images)", self.suggestions),
                              ("Confusion matrix (rows: your label; columns: predicted, numbered as the rows)",
                               self.confusion)):  # fmt: skip
            root.addWidget(wrapping_label(title, "color: #a0a6ad; padding-top: 6px;"))
            root.addWidget(widget)
        root.addStretch(1)

    def _connect(self) -> None:
        self.run_button.clicked.connect(self._on_run_clicked)
        self.accept_button.clicked.connect(self.ctl.accept)
        self.suggest_button.clicked.connect(self._on_suggest_clicked)
        self.eval_button.clicked.connect(self._on_eval_clicked)
        self.suggestions.itemSelectionChanged.connect(self._on_suggestions_selected)
        s = self.session
        s.selection.changed.connect(self._on_selection_changed)
        s.labels_changed.connect(self._on_labels_changed)
        s.classify.changed.connect(self._on_state_changed)
        s.project_changed.connect(lambda _p: self.refresh())
        s.tasks_changed.connect(self.refresh)
        s.models_changed.connect(self.refresh)
        s.task.changed.connect(self._on_active_task_changed)

    # -- state -----------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the project's tasks and embedded models (a project opened, a task defined)."""
        project = self.session.project
        keep_task, keep_model = self.task_box.currentText(), self.model_box.currentText()
        self.task_box.clear()
        self.model_box.clear()
        if project is None:
            return
        self.task_box.addItems([t for t in project.labels.task_names() if not t.endswith("_group")])
        embedded = [m for m, _, _ in project.embeddings.models()]
        installed = ModelsController(self.session).offline_ids()
        self.model_box.addItems(list(dict.fromkeys([*MODELS, *embedded, *installed])))
        for box, keep in ((self.task_box, keep_task), (self.model_box, keep_model)):
            if keep and box.findText(keep) >= 0:
                box.setCurrentText(keep)
        if not keep_task and self.session.task.name and self.task_box.findText(self.session.task.name) >= 0:
            self.task_box.setCurrentText(self.session.task.name)

    def _on_active_task_changed(self, name: str) -> None:
        """The tab follows the label bar's task (another one can still be chosen here)."""
        if name and self.task_box.findText(name) >= 0:
            self.task_box.setCurrentText(name)

    def showEvent(self, event: QShowEvent) -> None:
        if not self.task_box.count():
            self.refresh()
        super().showEvent(event)

    def request(self) -> Request | None:
        task = self.task_box.currentText()
        if self.session.project is None or not task:
            self.session.classify.update(status="Open a project and choose a labelled task.")
            return None
        return Request(task, self.model_box.currentText().strip() or MODELS[0], self.grouped.isChecked())

    def _on_state_changed(self) -> None:
        state = self.session.classify
        self.status.setText(state.status)
        busy = bool(state.busy)
        for b in (self.run_button, self.eval_button, self.suggest_button):
            b.setEnabled(not busy)
        self.accept_button.setEnabled(state.scores is not None)
        self._on_selection_changed()

    # -- run ---------------------------------------------------------------------------------------------------
    def _on_run_clicked(self) -> None:
        if (req := self.request()) is not None:
            self.ctl.run(req)

    def _on_selection_changed(self, *_: Any) -> None:
        scores, current = self.session.classify.scores, self.session.selection.current
        rows = scores.of(current) if scores is not None and current is not None else []
        _fill(self.scores, [[c, f"{p:.3f}"] for c, p in rows])

    def _on_labels_changed(self, task: str) -> None:
        if task == self.suggested_task:
            self._mark_labelled()
        req = self.request() if self.live.isChecked() else None
        if req is not None and task == req.task:
            self.ctl.retrain(req)

    # -- suggestions and evaluation --------------------------------------------------------------------------
    def _on_suggest_clicked(self) -> None:
        if (req := self.request()) is not None:
            self.ctl.suggest(req, self._on_suggested)

    def _on_suggested(self, rows: list[SuggestionRow]) -> None:
        self.suggested, self.suggested_task = rows, self.task_box.currentText()
        self.suggestions.clearSelection()
        self.suggestions.setRowCount(len(rows))
        for r, row in enumerate(rows):
            tip = suggestion_tooltip(row)
            for c, text in enumerate((row.name, row.reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                item.setData(ID_ROLE, row.image_id)
                self.suggestions.setItem(r, c, item)
        self.suggestions.resizeRowsToContents()
        self._mark_labelled()

    def _mark_labelled(self) -> None:
        """Suggestions labelled since are ticked and greyed: what is left to do stays plain."""
        project = self.session.project
        done = project.labels.labels(self.suggested_task) if project is not None and self.suggested_task else {}
        for r, row in enumerate(self.suggested):
            name, reason = self.suggestions.item(r, 0), self.suggestions.item(r, 1)
            if name is None or reason is None:
                continue
            label = done.get(row.image_id)
            name.setText(f"✓ {row.name} ({label})" if label else row.name)
            for item in (name, reason):
                item.setForeground(QColor("#7c828a") if label else QColor("#e3e5e8"))

    def _on_suggestions_selected(self) -> None:
        rows = sorted({i.row() for i in self.suggestions.selectedIndexes()})
        ids = [self.suggested[r].image_id for r in rows if r < len(self.suggested)]
        if ids:
            self.session.selection.set(ids, source=self, current=ids[0])

    def _on_eval_clicked(self) -> None:
        if (req := self.request()) is not None:
            self.ctl.evaluate(req, self._on_evaluated)

    def _on_evaluated(self, ev: Any) -> None:
        n = len(ev.classes)
        self.confusion.setColumnCount(n)
        self.confusion.setHorizontalHeaderLabels([str(k + 1) for k in range(n)])
        _fill(self.confusion, [[str(v) for v in row] for row in ev.confusion])
        self.confusion.setVerticalHeaderLabels([f"{k + 1} {c}" for k, c in enumerate(ev.classes)])
        for k, c in enumerate(ev.classes):
            self.confusion.horizontalHeaderItem(k).setToolTip(c)
            self.confusion.verticalHeaderItem(k).setToolTip(c)
        self.confusion.verticalHeader().setMaximumWidth(150)
        self.confusion.resizeColumnsToContents()


def suggestion_table() -> QTableWidget:
    """Image and reason, one row each; the reason wraps (the side panel is narrow); several rows can be chosen."""
    table = small_table(2, ["image", "why suggested"])
    table.verticalHeader().hide()
    table.setWordWrap(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    table.setColumnWidth(0, 90)
    table.setMinimumHeight(120)
    table.setMaximumHeight(300)
    return table


def suggestion_tooltip(row: SuggestionRow) -> str:
    guess = f"predicted {row.predicted} ({row.score:.2f}) · " if row.predicted and row.score is not None else ""
    return f"{row.name}\n{row.reason}\n{guess}uncertainty {row.uncertainty:.2f}"


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setToolTip(value)
            table.setItem(r, c, item)


def register() -> None:
    """Put this panel in the side panel's Classify tab (call before the main window is created)."""
    from micview.gui.side_panel import register_panel

    register_panel("Classify", ClassifyPanel)
