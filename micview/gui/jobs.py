"""The jobs panel (one row per background job, with progress and Cancel) and its status-bar summary."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.gui.workers import Job, JobManager

_STATE_TEXT = {"done": "✓ done", "failed": "✕ failed", "cancelled": "cancelled"}


def _set_progress(bar: QProgressBar, job: Job) -> None:
    p = job.progress
    if job.done:
        bar.setRange(0, 1)
        bar.setValue(1 if job.state == "done" else 0)
    elif p.total:
        bar.setRange(0, p.total)
        bar.setValue(p.done)
    else:
        bar.setRange(0, 0)  # busy indicator


class JobRow(QFrame):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setObjectName("jobRow")
        self.setStyleSheet("#jobRow { border-bottom: 1px solid #33363b; }")
        self.title = QLabel(f"<b>{job.title}</b>")
        self.message = QLabel()
        self.message.setStyleSheet("color: #a0a6ad;")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar(maximumHeight=16, textVisible=True)
        self.bar.setFixedWidth(240)
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
        self.job.cancel()
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")

    def update_from_job(self) -> None:
        job, p = self.job, self.job.progress
        _set_progress(self.bar, job)
        if job.state == "failed" and job.error:
            self.message.setText(f"<span style='color:#ff8a80'>{job.error[0]}</span>")
        elif job.done:
            self.message.setText(_STATE_TEXT[job.state] + (f" — {p.message}" if job.state != "done" else ""))
        else:
            count = f"{p.done:,} / {p.total:,} · " if p.total else ""
            self.message.setText(count + p.message)
        self.cancel_button.setVisible(not job.done)


class JobsPanel(QWidget):
    """Every job of this session, newest first; finished ones stay until cleared."""

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

    def _on_job_added(self, job: Job) -> None:
        row = JobRow(job)
        self.rows[job.id] = row
        self.list.insertWidget(0, row)

    def _on_job_changed(self, job: Job) -> None:
        if job.id in self.rows:
            self.rows[job.id].update_from_job()

    def clear_finished(self) -> None:
        for job_id, row in list(self.rows.items()):
            if row.job.done:
                # out of the layout and hidden now; deleteLater alone left it painted until the next event turn
                self.list.removeWidget(row)
                row.hide()
                row.deleteLater()
                del self.rows[job_id]


class JobsStatus(QWidget):
    """Status-bar summary: what runs now, its progress, and a button that opens the jobs panel."""

    def __init__(self, manager: JobManager, show_panel: QToolButton) -> None:
        super().__init__()
        self.manager = manager
        self.label = QLabel()
        self.label.setFixedWidth(420)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.bar = QProgressBar(maximumHeight=14, textVisible=False)
        self.bar.setFixedWidth(160)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(show_panel)
        manager.changed.connect(self._refresh)
        manager.added.connect(self._refresh)
        self._refresh()

    def _refresh(self, _job: object = None) -> None:
        running = [j for j in self.manager.running() if not j.quiet]
        self.bar.setVisible(bool(running))
        if not running:
            self.label.setText("No background jobs")
            return
        job = running[-1]
        more = f" (+{len(running) - 1} more)" if len(running) > 1 else ""
        text = f"{job.title}: {job.progress.message}{more}"
        self.label.setText(self.label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, 410))
        _set_progress(self.bar, job)
