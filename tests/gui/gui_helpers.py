"""Helpers shared by the GUI tests (a plain module: ``conftest`` names clash across test folders)."""

from __future__ import annotations

EMBED_TIMEOUT_MS = 120_000


def wait_job(qtbot, job, timeout: int = EMBED_TIMEOUT_MS) -> None:
    if not job.done:
        with qtbot.waitSignal(job.finished, timeout=timeout):
            pass
    assert job.state == "done", job.error


def wait_until(qtbot, condition, timeout: int, describe) -> None:
    """``qtbot.waitUntil`` that, on a timeout, says what the window showed and where every thread was.

    A job that never ends on a CI machine cannot be rerun by hand: the failure must carry its own evidence.
    """
    import faulthandler
    import sys

    from pytestqt.exceptions import TimeoutError as QtTimeout

    try:
        qtbot.waitUntil(condition, timeout=timeout)
    except QtTimeout:
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        raise AssertionError(f"not reached in {timeout} ms; {describe()}") from None
