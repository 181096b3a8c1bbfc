"""The Models dialog: what is on this computer, add a model folder, download a recommended model, remove one.

It observes the :class:`~micview.gui.session.Session` (``models_changed``, ``model_changed``, errors reported
as ``"Models"``) and acts through the :class:`~micview.gui.controllers.models.ModelsController`; downloads and
additions are session jobs, followed here by a progress bar with Cancel (the jobs panel shows them too).
Offline, Download answers at once with the commands to run on a computer with internet and how to bring the
folder over; the text can be selected and copied.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.core.tasks import Progress
from micview.gui.controllers.models import EMBEDDABLE, TITLE, ModelsController
from micview.gui.session import Session
from micview.gui.state import ErrorEntry
from micview.gui.widgets import wrapping_label

if TYPE_CHECKING:
    from micview.gui.workers import Job
    from micview.ml.model_install import InstalledModel

ID_ROLE = Qt.ItemDataRole.UserRole
MUTED, GOOD, BAD = "#a0a6ad", "#8fd19e", "#ff8a80"
INTRO = (
    "<b>Image-only</b> models draw the map and find similar images. <b>Text + image</b> models (CLIP, SigLIP) "
    "also search in plain language and classify from prompts. Models run on this computer; only Download "
    "uses the internet, once."
)


def human_size(n: int | None) -> str:
    if n is None:
        return "—"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}" if n < 10 * scale else f"{n / scale:.0f} {unit}"
    return f"{n} B"


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(24)
    table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    table.horizontalHeader().setHighlightSections(False)
    return table


def _item(text: str, tooltip: str = "", muted: bool = False, model_id: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tooltip or text)
    if muted:
        item.setForeground(QColor(MUTED))
    if model_id:
        item.setData(ID_ROLE, model_id)
    return item


class ModelsDialog(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.ctl = ModelsController(session)
        self.job: Job | None = None
        self.models: list[InstalledModel] = []
        self.setWindowTitle("Models")
        self.resize(900, 620)
        self.installed_table = _table(["Model", "Kind", "Family", "Size on disk", "On this computer", ""])
        self.recommended_table = _table(["Model", "Download", "On this computer", "Why"])
        self.add_button = QPushButton("Add folder…")
        self.add_button.setToolTip("Register a model folder (open_clip, or a transformers CLIP / SigLIP / VLM folder)")
        self.use_button = QPushButton("Use for map and search")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget a model added from a folder (its files stay where they are)")
        self.pull_button = QPushButton("Download")
        self.offline_note = wrapping_label("", f"color: {MUTED};")
        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(16)
        self.cancel_button = QPushButton("Cancel")
        self.message = wrapping_label()
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message_text = ""  # the message as plain text (what Copy copies)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy this text (e.g. the commands to run on a computer with internet)")
        self.copy_button.hide()
        self._layout()
        self._connect()
        self.refresh()
        self._show_job(None)

    # -- construction ----------------------------------------------------------------------------------------
    def _layout(self) -> None:
        header = self.installed_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 120), (2, 100), (3, 96), (4, 130), (5, 110)):
            self.installed_table.setColumnWidth(col, width)
        rec = self.recommended_table.horizontalHeader()
        rec.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for col, width in ((0, 220), (1, 80), (2, 120)):
            self.recommended_table.setColumnWidth(col, width)
        self.recommended_table.setMaximumHeight(24 * 4 + 30)
        installed_buttons = QHBoxLayout()
        for b in (self.add_button, self.use_button, self.remove_button):
            installed_buttons.addWidget(b)
        installed_buttons.addStretch(1)
        pull_row = QHBoxLayout()
        pull_row.addWidget(self.pull_button)
        pull_row.addWidget(self.offline_note, 1)
        self.progress_row = QWidget()
        progress = QHBoxLayout(self.progress_row)
        progress.setContentsMargins(0, 0, 0, 0)
        progress.addWidget(self.progress_label, 1)
        progress.addWidget(self.progress)
        progress.addWidget(self.cancel_button)
        self.progress.setFixedWidth(220)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        page = QVBoxLayout(self)
        page.addWidget(wrapping_label(INTRO))
        page.addWidget(_heading("On this computer, and known to micview"))
        page.addWidget(self.installed_table, 1)
        page.addLayout(installed_buttons)
        page.addWidget(_heading("Recommended for search in plain language (download once, then offline)"))
        page.addWidget(self.recommended_table)
        page.addLayout(pull_row)
        page.addWidget(self.progress_row)
        message_row = QHBoxLayout()
        message_row.addWidget(self.message, 1)
        message_row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        page.addLayout(message_row)
        page.addWidget(close)

    def _connect(self) -> None:
        self.add_button.clicked.connect(self.ask_add_folder)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.pull_button.clicked.connect(self._on_pull_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.copy_button.clicked.connect(lambda: QApplication.clipboard().setText(self.message_text))
        self.installed_table.itemSelectionChanged.connect(self._update_buttons)
        self.recommended_table.itemSelectionChanged.connect(self._update_buttons)
        s = self.session
        s.models_changed.connect(self.refresh)
        s.model_changed.connect(lambda _id: self.refresh())
        s.errors.reported.connect(self._on_error_reported)

    # -- what is shown -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the registry (sizes on disk, what is offline); keeps the selected rows."""
        keep = self.selected_installed()
        self.models = sorted(self.ctl.installed(), key=lambda m: (not m.offline, not m.default))
        _fill(self.installed_table, [self._installed_row(m) for m in self.models])
        keep_rec = self.selected_recommended()
        _fill(self.recommended_table, [
            [_item(r.model_id, r.why, model_id=r.model_id), _item(f"~{r.download_mb} MB"),
             _item("✓ yes" if here else "not yet", muted=not here), _item(r.why)]
            for r, here in self.ctl.recommended()
        ])  # fmt: skip
        _select(self.installed_table, keep)
        _select(self.recommended_table, keep_rec)
        offline = self.ctl.offline_mode()
        self.offline_note.setText(
            "This computer is offline (HF_HUB_OFFLINE): Download says how to bring a model from a computer with "
            "internet." if offline else "Every file is checked against the sha256 the hub publishes."
        )  # fmt: skip
        self._update_buttons()

    def _installed_row(self, m: InstalledModel) -> list[QTableWidgetItem]:
        spec = m.spec
        where = str(m.folder) if m.folder else spec.source
        tip = f"{spec.description}\n{where}" if spec.description else where
        marks = [t for t, on in (("in use", spec.id == self.session.model_id), ("default", m.default)) if on]
        return [
            _item(spec.id, tip, muted=not m.offline, model_id=spec.id),
            _item(m.kind, muted=not m.offline),
            _item(spec.family, muted=not m.offline),
            _item(human_size(m.size_bytes), muted=not m.offline),
            _item("✓ offline" if m.offline else "not downloaded", where, muted=not m.offline),
            _item(" · ".join(marks)),
        ]

    def selected_installed(self) -> str:
        return _selected_id(self.installed_table)

    def selected_recommended(self) -> str:
        return _selected_id(self.recommended_table)

    def _model(self, model_id: str) -> InstalledModel | None:
        return next((m for m in self.models if m.spec.id == model_id), None)

    def _update_buttons(self) -> None:
        m = self._model(self.selected_installed())
        running = self.job is not None and not self.job.done
        self.remove_button.setEnabled(m is not None and not m.builtin)
        self.remove_button.setToolTip(
            "Built-in models cannot be removed" if m is not None and m.builtin else
            "Forget a model added from a folder (its files stay where they are)"
        )  # fmt: skip
        usable = m is not None and m.offline and m.spec.family in EMBEDDABLE and m.spec.id != self.session.model_id
        self.use_button.setEnabled(usable)
        rec = self._model(self.selected_recommended())
        self.pull_button.setEnabled(bool(self.selected_recommended()) and not running and not (rec and rec.offline))
        self.add_button.setEnabled(not running)

    def _say(self, text: str, color: str = "") -> None:
        """Show ``text``: its first paragraph in ``color``, the rest (how to go on) plain, commands in monospace."""
        self.message_text = text
        self.message.setText(message_html(text, color))
        self.copy_button.setVisible("`" in text)

    # -- actions -----------------------------------------------------------------------------------------------
    def ask_add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder (open_clip, CLIP, SigLIP or a VLM)")
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> Job:
        self._say(f"Checking {folder} …")
        return self._follow(self.ctl.add_folder(folder))

    def pull(self, model_id: str) -> Job:
        self._say(f"Downloading {model_id} …")
        return self._follow(self.ctl.pull(model_id))

    def _on_pull_clicked(self) -> None:
        if model_id := self.selected_recommended():
            self.pull(model_id)

    def _on_use_clicked(self) -> None:
        if model_id := self.selected_installed():
            self.ctl.use(model_id)
            self._say(f"{model_id} is now the model of the map and of search.", GOOD)

    def _on_remove_clicked(self) -> None:
        if (model_id := self.selected_installed()) and self.ctl.remove(model_id):
            self._say(f"Removed {model_id} (its files were left where they are).", GOOD)

    def _on_cancel_clicked(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)

    def _on_error_reported(self, entry: ErrorEntry) -> None:
        if entry.title == TITLE:
            self._say(entry.message, BAD)

    # -- the running job ----------------------------------------------------------------------------------------
    def _follow(self, job: Job) -> Job:
        self.job = job
        job.yielded.connect(self._on_progress)
        job.returned.connect(lambda _r, title=job.title: self._say(f"{title}: done.", GOOD))
        job.cancelled.connect(lambda: self._say("Cancelled; nothing was added."))
        job.finished.connect(lambda: self._show_job(None))
        self._show_job(job)
        return job

    def _show_job(self, job: Job | None) -> None:
        self.progress_row.setVisible(job is not None)
        if job is None:
            self.job = None
        else:
            self.progress_label.setText(job.title)
            self.progress.setRange(0, 0)
            self.cancel_button.setEnabled(True)
        self._update_buttons()

    def _on_progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.progress_label.setText(p.message)


def message_html(text: str, color: str = "") -> str:
    """``text`` as rich text: first paragraph in ``color``, then one line each, `commands` in monospace."""
    if not text:
        return ""
    head, _, rest = text.partition("\n\n")
    lines = [_code(line) for line in rest.splitlines()]
    style = f" style='color: {color};'" if color else ""
    body = "<br>".join(lines)
    return f"<p{style}>{_code(head)}</p>" + (f"<p>{body}</p>" if body else "")


def _code(line: str) -> str:
    code = "<code style='background: #2a2c31; color: #e3e5e8;'>&nbsp;\\1&nbsp;</code>"
    return re.sub(r"`([^`]+)`", code, html.escape(line, quote=False))


def _heading(text: str) -> QLabel:
    return wrapping_label(f"<b>{text}</b>", "padding-top: 8px;")


def _fill(table: QTableWidget, rows: list[list[QTableWidgetItem]]) -> None:
    table.setRowCount(len(rows))
    for r, items in enumerate(rows):
        for c, item in enumerate(items):
            table.setItem(r, c, item)


def _selected_id(table: QTableWidget) -> str:
    rows = table.selectionModel().selectedRows()
    item = table.item(rows[0].row(), 0) if rows else None
    return str(item.data(ID_ROLE)) if item is not None else ""


def _select(table: QTableWidget, model_id: str) -> None:
    for r in range(table.rowCount()):
        item = table.item(r, 0)
        if model_id and item is not None and item.data(ID_ROLE) == model_id:
            table.selectRow(r)
            return
