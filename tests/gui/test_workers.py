"""The job system: results, progress, errors (with and without details), cancel, one model thread."""

from __future__ import annotations

import threading

from micview.core.errors import MicviewError
from micview.core.tasks import Progress
from micview.gui.workers import JobManager


def counting(n: int, log: list[str], gate: threading.Event | None = None):
    try:
        for i in range(n):
            if gate is not None:
                gate.wait(5)
            yield Progress(i + 1, n, f"step {i + 1}")
        return n * 10
    finally:
        log.append(threading.current_thread().name)


def test_result_progress_and_thread(qtbot) -> None:
    manager, log = JobManager(), []
    job = manager.start("count", lambda: counting(3, log))
    seen: list[Progress] = []
    job.yielded.connect(seen.append)
    with qtbot.waitSignal(job.returned, timeout=5000) as blocker:
        pass
    assert blocker.args == [30] and job.state == "done"
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert seen[-1] == Progress(3, 3, "step 3") and log != [threading.current_thread().name]


def test_micview_error_is_a_message_a_bug_has_details(qtbot) -> None:
    def fails(exc: Exception):
        yield Progress(0, 0)
        raise exc

    manager = JobManager()
    for exc, has_details in ((MicviewError("the folder is gone"), False), (ValueError("bug"), True)):
        job = manager.start("fail", lambda e=exc: fails(e))
        with qtbot.waitSignal(job.errored, timeout=5000) as blocker:
            pass
        message, details = blocker.args
        assert str(exc) in message and bool(details) is has_details and job.state == "failed"


def test_cancel_closes_the_generator_at_the_next_yield(qtbot) -> None:
    manager, log, gate = JobManager(), [], threading.Event()
    job = manager.start("long", lambda: counting(1000, log, gate))
    qtbot.waitUntil(lambda: job.state == "running")
    job.cancel()
    gate.set()
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        pass
    qtbot.waitUntil(lambda: job.done)
    assert job.state == "cancelled" and len(log) == 1  # the finally clause ran: the generator was closed


def test_model_jobs_run_one_at_a_time(qtbot) -> None:
    manager, active, peak, lock = JobManager(), [0], [0], threading.Lock()

    def model_job():
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        for i in range(20):
            yield Progress(i, 20)
        with lock:
            active[0] -= 1

    jobs = [manager.start(f"m{i}", model_job, pool="model") for i in range(3)]
    qtbot.waitUntil(lambda: all(j.done for j in jobs), timeout=5000)
    assert peak[0] == 1


def test_cancel_before_start_never_runs_the_task(qtbot) -> None:
    manager, started = JobManager(), []
    blocker_gate = threading.Event()
    blockers = [manager.start(f"b{i}", lambda: counting(1, [], blocker_gate), pool="model") for i in range(1)]
    job = manager.start("queued", lambda: started.append(1) or counting(1, []), pool="model")
    job.cancel()
    blocker_gate.set()
    qtbot.waitUntil(lambda: job.done and all(b.done for b in blockers), timeout=5000)
    assert job.state == "cancelled" and started == []


def test_jobs_panel_keeps_text_of_finished_jobs_and_clears_them(qtbot) -> None:
    from micview.gui.jobs import JobsPanel

    manager, log, gate = JobManager(), [], threading.Event()
    panel = JobsPanel(manager)
    qtbot.addWidget(panel)
    panel.show()
    done = manager.start("quick", lambda: counting(1, log))
    running = manager.start("slow", lambda: counting(3, log, gate))
    with qtbot.waitSignal(done.finished, timeout=5000):
        pass
    finished_row = panel.rows[done.id]
    assert finished_row.job is None and finished_row.message.text().startswith("✓ done")
    assert manager.jobs == [running] and manager.history[0].title == "quick"
    panel.clear_finished()
    assert list(panel.rows) == [running.id]
    visible = [panel.list.itemAt(i).widget() for i in range(panel.list.count()) if panel.list.itemAt(i).widget()]
    assert [w.job.id for w in visible if w.isVisible()] == [running.id]  # gone now, not at the next event turn
    gate.set()
    with qtbot.waitSignal(running.finished, timeout=5000):
        pass
    assert manager.jobs == []


class Big:
    """A stand-in for a large result (a full-resolution frame, a map): weak-referenceable."""


def test_a_finished_jobs_result_is_freed_once_delivered(qtbot) -> None:
    import gc
    import weakref

    manager, got = JobManager(), []

    def task():
        yield Progress(0, 1)
        return Big()

    job = manager.start("big", task, on_result=lambda r: got.append(weakref.ref(r)))
    job_ref = weakref.ref(job)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert job.state == "done" and job.result is None and manager.jobs == []
    del job
    gc.collect()
    assert len(got) == 1 and got[0]() is None  # delivered once, then nothing holds it
    assert job_ref() is None  # the job itself is gone too: only its text stays in the history
    assert manager.history[0].state == "done"


def test_on_error_gets_the_message(qtbot) -> None:
    def fails():
        yield Progress(0, 0)
        raise MicviewError("disk full")

    manager, errors = JobManager(), []
    job = manager.start("fail", fails, on_result=lambda r: errors.append("result?"),
                        on_error=lambda m, d: errors.append((m, d)))  # fmt: skip
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    assert errors == [("disk full", "")] and manager.history[0].message == "disk full"


def test_python_signal_emits_keep_the_refcount_of_true(qtbot) -> None:
    """PySide6 6.12.0 dropped a reference to True on every Signal.emit(): a long job aborted the interpreter."""
    import sys

    from micview.core.tasks import Progress as P

    manager = JobManager()
    before = sys.getrefcount(True)
    job = manager.start("many steps", lambda: (P(i, 2000) for i in range(2000)))
    with qtbot.waitSignal(job.finished, timeout=10_000):
        pass
    assert sys.getrefcount(True) >= before - 50  # 2000 progress signals crossed threads
