"""Helpers shared by the GUI tests (a plain module: ``conftest`` names clash across test folders)."""

from __future__ import annotations

EMBED_TIMEOUT_MS = 120_000


def wait_job(qtbot, job, timeout: int = EMBED_TIMEOUT_MS) -> None:
    if not job.done:
        with qtbot.waitSignal(job.finished, timeout=timeout):
            pass
    assert job.state == "done", job.error
