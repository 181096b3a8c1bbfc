"""The browser widget: filter bar, virtual thumbnail grid, size slider; kept in step with the Session.

It shows the session's catalog through its filter, mirrors the session's selection both ways, ranks by the
session's search results, and publishes what it shows (``session.shown``) for exports and the viewer's
previous/next keys. It opens the viewer through the :class:`ViewerController`, never directly.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.gui.browser.delegate import ThumbnailDelegate
from micview.gui.browser.filtering import explain
from micview.gui.browser.model import ANY, NONE, SORT_KEYS, Filter, ImageListModel, row_runs
from micview.gui.columns import FilterColumns, update_values
from micview.gui.controllers.viewer import ViewerController
from micview.gui.session import LabelWrite, Session
from micview.gui.watch_state import watch_state
from micview.gui.widgets import compact_combo, elided_label

FILTER_HELP = (
    "Words match file names. column:value matches a column — a label task (technique:SEM), a prediction "
    "(technique_pred:SEM, technique_score>0.8), imported metadata (contributor:clyne) or a file fact "
    '(format:tif, width>1000, pixel_size_nm<5). Quotes keep spaces: technique:"reflected light".'
)


class ThumbnailView(QListView):
    """QListView in icon mode with uniform sizes: only visible cells are laid out and painted."""

    def __init__(self, model: ImageListModel, delegate: ThumbnailDelegate) -> None:
        super().__init__()
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setMouseTracking(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setItemDelegate(delegate)
        self.setModel(model)
        self.verticalScrollBar().setSingleStep(24)
        self.setMinimumWidth(160)


class BrowserWidget(QWidget):
    """Shows the project's images; writes the grid's selection to, and follows, the session's Selection."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.selection, self.results = session.selection, session.results
        self.viewer = ViewerController(session)
        self.columns = FilterColumns(None)
        self.model = ImageListModel(session.thumbnails.get, self.columns)
        self.delegate = ThumbnailDelegate(session.settings.thumb_size)
        self.delegate.is_new = watch_state(session).is_new
        watch_state(session).changed.connect(lambda: self.view.viewport().update())
        self.view = ThumbnailView(self.model, self.delegate)
        self._syncing = False
        self._build_filter_bar()
        self._build_banner()
        self._build_bottom_bar(session.settings.thumb_size)
        self.hint = QLabel(wordWrap=True)
        self.hint.setStyleSheet("color: #ffb74d; padding: 2px 8px;")
        self.hint.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        for part in (self.filter_bar, self.banner, self.hint, self.view, self.bottom_bar):
            layout.addWidget(part)
        self._connect()

    # -- construction -----------------------------------------------------------------------------------------
    def _build_filter_bar(self) -> None:
        self.filter_bar = QWidget()
        row = QHBoxLayout(self.filter_bar)
        row.setContentsMargins(6, 4, 6, 0)
        self.folder_combo, self.label_combo, self.pred_combo = (compact_combo(4) for _ in range(3))
        for combo, tip in ((self.folder_combo, "folder"), (self.label_combo, "label"), (self.pred_combo, "prediction")):
            combo.setToolTip(f"Show only this {tip}")
        self.text_edit = QLineEdit(placeholderText="Filter: name, or column:value")
        self.text_edit.setClearButtonEnabled(True)
        self.text_edit.setToolTip(FILTER_HELP)
        self.text_edit.setMinimumWidth(90)
        self.sort_combo = compact_combo(6)
        self.sort_combo.addItems(list(SORT_KEYS))
        self.order_button = QToolButton(text="↑", checkable=True, toolTip="Descending order")
        row.addWidget(self.text_edit, 3)
        for widget in (self.folder_combo, self.label_combo, self.pred_combo):
            row.addWidget(widget, 1)
        self._fill_combos([], [], [])

    def _build_banner(self) -> None:
        self.banner = QWidget(objectName="resultsBanner")
        self.banner.setStyleSheet("#resultsBanner { background: #4a3b10; border-radius: 4px; }")
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(8, 3, 4, 3)
        self.banner_label = elided_label()
        self.clear_results_button = QPushButton("Show all images")
        row.addWidget(self.banner_label, 1)
        row.addWidget(self.clear_results_button)
        self.banner.hide()

    def _build_bottom_bar(self, thumb_size: int) -> None:
        self.bottom_bar = QWidget()
        row = QHBoxLayout(self.bottom_bar)
        row.setContentsMargins(6, 0, 6, 4)
        self.count_label = elided_label()
        self.size_slider = QSlider(Qt.Orientation.Horizontal, minimum=64, maximum=256, value=thumb_size)
        self.size_slider.setMinimumWidth(60)
        self.size_slider.setMaximumWidth(140)
        self.size_slider.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.size_slider.setToolTip("Thumbnail size")
        row.addWidget(self.count_label, 1)
        row.addWidget(QLabel("Sort"))
        row.addWidget(self.sort_combo)
        row.addWidget(self.order_button)
        row.addSpacing(8)
        row.addWidget(self.size_slider)

    def _connect(self) -> None:
        self._text_timer = QTimer(self, singleShot=True, interval=250)  # debounce typing
        self._text_timer.timeout.connect(self._apply_filter)
        self.text_edit.textChanged.connect(self._text_timer.start)
        self.text_edit.returnPressed.connect(self._apply_filter)  # Return applies at once
        for combo in (self.folder_combo, self.label_combo, self.pred_combo, self.sort_combo):
            combo.currentIndexChanged.connect(self._apply_filter)
        self.order_button.toggled.connect(self._apply_filter)
        self.size_slider.valueChanged.connect(self.set_thumb_size)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.view.doubleClicked.connect(lambda index: self.viewer.open(self.model.id_at(index.row())))
        self.clear_results_button.clicked.connect(self.results.clear)
        self.model.modelReset.connect(self._on_model_reset)
        s = self.session
        s.selection.changed.connect(self._on_selection_changed)
        s.results.changed.connect(self._on_results_changed)
        s.catalog.changed.connect(self._on_catalog_changed)
        s.project_changed.connect(self._on_project_changed)
        s.task.changed.connect(self._on_labels_changed)
        s.labels_changed.connect(self._on_labels_changed)
        s.tasks_changed.connect(self.columns.invalidate)
        s.fields_changed.connect(self._on_fields_changed)

    # -- public -----------------------------------------------------------------------------------------------
    def set_thumb_size(self, size: int) -> None:
        self.session.settings.thumb_size = size
        self.delegate.size = size
        self.view.setGridSize(QSize())  # uniform sizes are re-measured from the delegate
        self.model.layoutChanged.emit()

    # -- observers --------------------------------------------------------------------------------------------
    def _on_project_changed(self, project: object) -> None:
        self.columns.project = self.session.project
        self.columns.invalidate()

    def _on_catalog_changed(self) -> None:
        self.columns.invalidate()
        self.model.set_rows(self.session.catalog.rows)
        self._on_labels_changed()

    def _on_fields_changed(self) -> None:
        self.columns.invalidate()
        if self.model.matcher.columns:
            self.model.refilter()

    def _on_labels_changed(self, *_args: object) -> None:
        """Labels or predictions changed, or the task: update the images a write names, else re-read."""
        write = self.session.label_write
        if write is None or not self._apply_write(write):
            self._reload_annotations()

    def _apply_write(self, write: LabelWrite) -> bool:
        """The user labels of ``write`` only: their rows, the filter columns that hold them, the label choices.
        False when the grid must re-read the task instead (a filter names the column but never read it)."""
        columns = self.columns.apply_write(write.task, write.labels)
        matcher = self.model.matcher.columns
        named = [c for c in columns if c in matcher]
        if any(matcher[c] is None for c in named):
            return False
        for c in named:
            values = matcher[c]
            if values is not None and values is not self.columns.cached(c):
                update_values(values, write.labels)
        shown = write.task == self.session.task.name
        if not shown and not named:
            return True
        self._syncing = True  # rows that leave keep their place in the session's selection, as after a reset
        try:
            update = self.model.update_labels(write.labels, shown=shown, filtered=bool(named))
        finally:
            self._syncing = False
        if update.reset:
            return True  # _on_model_reset did the rest
        if update.inserted:
            self._select_again(update.inserted)
        if update.removed or update.inserted:
            self._on_rows_moved()
        if shown:
            self._refresh_label_choices(write.labels, update.before)
        return True

    def _refresh_label_choices(self, now: Mapping[int, str | None], before: Mapping[int, str | None]) -> None:
        """The label filter's choices follow a label that appears or disappears (the classes always stay)."""
        combo, classes = self.label_combo, set(self.session.task.classes)
        offered = {combo.itemData(i) for i in range(combo.count())}
        new = {v for v in now.values() if v is not None and v not in offered}
        gone = {v for v in before.values() if v is not None and v not in classes} - set(now.values())
        if gone:  # a label outside the task's classes may have lost its last image
            gone -= set(self.model.labels.values())
        if new or gone:
            labels = (offered - {ANY, NONE, None} - gone) | new | classes
            _fill_combo(combo, sorted(labels), "Any label", True)

    def _select_again(self, ids: list[int]) -> None:
        """Rows back in view that the session has selected are selected in the grid again."""
        rows = self.model.view_rows_of(self.selection.id_set & set(ids))
        sel = QItemSelection()
        for start, stop in row_runs(rows):
            sel.select(self.model.index(start), self.model.index(stop))
        self._syncing = True
        try:
            self.view.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.Select)
        finally:
            self._syncing = False

    def _on_rows_moved(self) -> None:
        """Rows left or entered the filtered view (no reset): the count, the hint and what is shown."""
        self._update_count()
        self._update_hint()
        filtering = len(self.model.visible) != len(self.model.rows) or bool(self.model.filter.ranking)
        self.session.shown.set(self.model.visible_ids(), filtering)

    def _reload_annotations(self) -> None:
        """Labels and predictions of the active task on the thumbnails; filter choices; filter columns."""
        self.columns.invalidate()
        project, task = self.session.project, self.session.task
        labels = project.labels.labels(task.name) if project and task.name else {}
        current = project.labels.current(task.name, "model") if project and task.name else {}
        preds = {i: (a.label, a.score) for i, a in current.items()}
        self.delegate.classes = task.classes
        self._fill_combos(self.model.folders(), sorted(set(task.classes) | set(labels.values())),
                          sorted({p[0] for p in preds.values() if p[0]}))  # fmt: skip
        self.model.set_annotations(labels, preds)
        if self.model.matcher.columns:
            self.model.refilter()
        self.view.viewport().update()

    # -- filter -----------------------------------------------------------------------------------------------
    def _fill_combos(self, folders: list[str], labels: list[str], preds: list[str]) -> None:
        specs = ((self.folder_combo, folders, "All folders", False), (self.label_combo, labels, "Any label", True),
                 (self.pred_combo, preds, "Any prediction", True))  # fmt: skip
        for combo, values, any_text, with_none in specs:
            _fill_combo(combo, values, any_text, with_none)

    def _apply_filter(self) -> None:
        self._text_timer.stop()
        flt = Filter(
            folder=self.folder_combo.currentData() or ANY, label=self.label_combo.currentData() or ANY,
            prediction=self.pred_combo.currentData() or ANY, text=self.text_edit.text(),
            sort=SORT_KEYS[self.sort_combo.currentText()], descending=self.order_button.isChecked(),
            ranking=list(self.results.ids) if self.results.active else [],
        )  # fmt: skip
        self.order_button.setText("↓" if flt.descending else "↑")
        self.model.set_filter(flt)

    def _on_results_changed(self) -> None:
        if self.results.active:
            ids = [int(i) for i in self.results.ids]
            self.banner_label.setText(f"{len(ids)} results for {self.results.query}, best first")
            self.model.set_ranking(ids, [float(s) for s in self.results.scores])
        else:
            self.model.set_ranking([], [])
        self.banner.setVisible(self.results.active)
        self.view.scrollToTop()

    def _on_model_reset(self) -> None:
        self._on_selection_changed(None)
        self._on_rows_moved()

    def _update_count(self) -> None:
        shown, total, chosen = len(self.model.visible), len(self.model.rows), len(self.selection)
        text = f"{shown:,} of {total:,} images" if shown != total else f"{total:,} images"
        self.count_label.setText(text + (f" · {chosen:,} selected" if chosen else ""))

    def _update_hint(self) -> None:
        """Say why a filter shows nothing (an unknown column, or the values the column has)."""
        empty = not self.model.visible and bool(self.model.rows)
        if empty and self.model.matcher.terms:
            rows = self.model.rows
            self.hint.setText(explain(self.model.matcher, rows, self.columns.names(),
                                      lambda c: self.columns.examples(c, rows)))  # fmt: skip
        elif empty:
            self.hint.setText("No image matches the folder, label and prediction chosen above.")
        self.hint.setVisible(empty)

    # -- selection, both ways -------------------------------------------------------------------------------------
    def _on_view_selection_changed(self) -> None:
        if self._syncing:
            return
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        current = self.view.currentIndex()
        cur_id = self.model.id_at(current.row()) if current.isValid() and current.row() in set(rows) else None
        self.selection.set((self.model.id_at(r) for r in rows), source=self, current=cur_id)
        self._update_count()

    def _on_selection_changed(self, source: object) -> None:
        self._update_count()
        if source is self:
            return
        rows = self.model.view_rows_of(self.selection.id_set)
        sel = QItemSelection()
        for start, stop in row_runs(rows):
            sel.select(self.model.index(start), self.model.index(stop))
        self._syncing = True
        try:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
            self.view.selectionModel().select(sel, flags)
            if rows:
                self.view.selectionModel().setCurrentIndex(
                    self.model.index(rows[0]), QItemSelectionModel.SelectionFlag.NoUpdate
                )
                self.view.scrollTo(self.model.index(rows[0]))
        finally:
            self._syncing = False

    def current_index(self) -> QModelIndex:
        return self.view.currentIndex()


def _fill_combo(combo: QComboBox, values: list[str], any_text: str, with_none: bool) -> None:
    """Offer ``values`` (after "any" and, ``with_none``, "(none)"), keeping the current choice where it stays."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(any_text, ANY)
    if with_none:
        combo.addItem("(none)", NONE)
    for v in values:
        combo.addItem(v or "(project folder)", v)
        combo.setItemData(combo.count() - 1, v, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)
