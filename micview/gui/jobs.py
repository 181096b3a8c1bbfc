"""The jobs panel (running jobs with progress and Cancel, then a short text history) and its status summary.

A running job's row holds the job; when the job finishes the row turns into a line of text and lets the job
go (its result was already delivered and released: see :mod:`micview.gui.workers`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.gui.widgets import ElidedLabel
from micview.gui.workers import HISTORY, Job, JobManager, JobRecord

_STATE_TEXT = {"done": "✓ done", "failed": "✕ failed", "cancelled": "cancelled"}


def _set_progress(bar: QProgressBar, job: Job) -> None:
    p = job.progress
    if p.total:
        bar.setRange(0, p.total)
        bar.setValue(p.done)
    else:
        bar.setRange(0, 0)  # busy indicator


def _elided_label(style: str = "") -> QLabel:
    label = QLabel()
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if style:
        label.setStyleSheet(style)
    return label


class JobRow(QFrame):
    """A job while it runs (``job`` set), then the text of how it ended (``job`` None, ``record`` set)."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job: Job | None = job
        self.record: JobRecord | None = None
        self.setObjectName("jobRow")
        self.setStyleSheet("#jobRow { border-bottom: 1px solid #33363b; }")
        self.title = _elided_label()
        self.title.setText(f"<b>{job.title}</b>")
        self.message = _elided_label("color: #a0a6ad;")
        self.bar = QProgressBar(maximumHeight=16, textVisible=True)
        self.bar.setFixedWidth(200)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.bar)
        top.addWidget(self.cancel_button)
        col = QVBoxLayout(self)
        col.setContentsMargins(8, 2, 8, 2)
        col.setSpacing(0)
        col.addLayout(top)
        col.addWidget(self.message)
        self.update_from_job()

    def _on_cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")

    def update_from_job(self) -> None:
        if self.job is None:
            return
        p = self.job.progress
        _set_progress(self.bar, self.job)
        count = f"{p.done:,} / {p.total:,} · " if p.total else ""
        self.message.setText(count + p.message)
        self.message.setToolTip(p.message)

    def finish(self, record: JobRecord) -> None:
        """The job ended: keep its text, drop the job."""
        self.job, self.record = None, record
        self.bar.hide()
        self.cancel_button.hide()
        if record.state == "failed":
            self.message.setText(f"<span style='color:#ff8a80'>✕ {record.message}</span>")
        else:
            tail = f" — {record.message}" if record.state != "done" and record.message else ""
            self.message.setText(f"{_STATE_TEXT[record.state]} in {record.seconds:.1f} s{tail}")
        self.message.setToolTip(record.message)


class JobsPanel(QWidget):
    """Running jobs first, then the last finished ones (text only), newest first."""

    def __init__(self, manager: JobManager) -> None:
        super().__init__()
        self.manager = manager
        self.rows: dict[int, JobRow] = {}
        self.list = QVBoxLayout()
        self.list.setSpacing(0)
        self.list.addStretch(1)
        inner = QWidget()
        inner.setLayout(self.list)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        clear = QToolButton(text="Clear finished")
        clear.clicked.connect(self.clear_finished)
        head = QHBoxLayout()
        head.addStretch(1)
        head.addWidget(clear)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(head)
        col.addWidget(scroll)
        manager.added.connect(self._on_job_added)
        manager.changed.connect(self._on_job_changed)
        manager.removed.connect(self._on_job_removed)

    def _on_job_added(self, job: Job) -> None:
        row = JobRow(job)
        self.rows[job.id] = row
        self.list.insertWidget(0, row)

    def _on_job_changed(self, job: Job) -> None:
        if job.id in self.rows:
            self.rows[job.id].update_from_job()

    def _on_job_removed(self, job: Job) -> None:
        row = self.rows.get(job.id)
        if row is not None:
            row.finish(job.record())
        finished = [r for r in self.rows.values() if r.job is None]
        for old in finished[:-HISTORY] if len(finished) > HISTORY else []:
            self._drop(old)

    def clear_finished(self) -> None:
        for row in [r for r in self.rows.values() if r.job is None]:
            self._drop(row)

    def _drop(self, row: JobRow) -> None:
        # out of the layout and hidden now; deleteLater alone left it painted until the next event turn
        self.list.removeWidget(row)
        row.hide()
        row.deleteLater()
        self.rows = {k: r for k, r in self.rows.items() if r is not row}


class JobsStatus(QWidget):
    """Status-bar summary: what runs now, its progress, and a button that opens the jobs panel."""

    def __init__(self, manager: JobManager, show_panel: QToolButton) -> None:
        super().__init__()
        self.manager = manager
        self.label = ElidedLabel()
        self.label.setFixedWidth(280)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.bar = QProgressBar(maximumHeight=14, textVisible=False)
        self.bar.setFixedWidth(120)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.bar)
        row.addWidget(show_panel)
        manager.changed.connect(self._refresh)
        manager.added.connect(self._refresh)
        manager.removed.connect(self._refresh)
        self._refresh()

    def _refresh(self, _job: object = None) -> None:
        running = [j for j in self.manager.running() if not j.quiet]
        self.bar.setVisible(bool(running))
        if not running:
            self.label.setText("No background jobs")
            self.label.setToolTip("")
            return
        job = running[-1]
        more = f" (+{len(running) - 1} more)" if len(running) > 1 else ""
        self.label.setText(f"{job.title}: {job.progress.message}{more}")
        _set_progress(self.bar, job)
