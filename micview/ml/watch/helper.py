"""The watch in a helper process, for the window: its GIL never waits on the model's first use.

Starting a watch imports torch and scikit-learn, builds the model, fits the classifier and warms UMAP's numba
code up. On a worker thread that still freezes the window: an import's C part (loading torch's libraries) and
numba's compiler hold the interpreter's lock for up to a second at a time, and nothing else in the process runs
meanwhile (``scripts/bench_watch.py`` measured gaps of 0.5-1.1 s in the window's event loop). So the window
runs :func:`~micview.ml.watch.run.watch_folder` in a spawned process of its own, and this task — on the
window's worker thread — only passes the steps on, sends the alert hits to the sinks (a command the lab
runs, a JSON-lines file), and ends the helper when the watch is cancelled.

The helper opens its own project connection, as the worker thread did; what it takes in is committed image by
image, so stopping it loses nothing. The model is loaded there, not shared with the window's cache.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import traceback
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micview.core.errors import Cancelled, MicviewError
from micview.core.tasks import Task, run_task
from micview.ml.watch.pipeline import WatchOptions

if TYPE_CHECKING:
    from micview.ml.watch.run import WatchSummary

STOP_WAIT_S = 10.0  # what a stopped helper gets to finish the image in hand before it is ended
_POLL_S = 0.25


def watch_in_helper(
    project_path: str | Path,
    folder: str | Path,
    options: WatchOptions,
    *,
    seconds: float | None = None,
    sinks: Sequence[Any] = (),
) -> Task[WatchSummary]:
    """:func:`~micview.ml.watch.run.watch_folder` in a helper process; the same steps and summary.

    Yields at least every quarter of a second (the last step again while the helper is busy loading), so a
    cancel is seen at once; closing this task stops the helper (ended after :data:`STOP_WAIT_S`).
    """
    from micview.ml.watch.run import WatchProgress

    ctx = multiprocessing.get_context("spawn")
    conn, child = ctx.Pipe()
    inner = replace(options, separate_process=False, notes=[])
    process = ctx.Process(target=_serve, args=(child, str(project_path), str(folder), inner, seconds), daemon=True,
                          name="micview-watch")  # fmt: skip
    process.start()
    child.close()
    last: Any = WatchProgress(0, 0, "Starting the watch's helper process")
    try:
        yield last
        while True:
            if not conn.poll(_POLL_S):
                if not process.is_alive():
                    raise MicviewError(f"The watch's helper process ended unexpectedly (exit code {process.exitcode}).")
                yield last
                continue
            kind, value = _receive(conn, process)
            if kind == "step":
                for hit in value.hits:
                    for sink in sinks:
                        sink.send(hit)
                last = replace(value, arrivals=(), hits=(), event="")
                yield value
            elif kind == "done":
                summary: WatchSummary = value
                return summary
            else:
                raise value
    finally:
        _stop(conn, process)


def _receive(conn: Connection, process: Any) -> tuple[str, Any]:
    try:
        return conn.recv()  # type: ignore[no-any-return]
    except (EOFError, OSError) as exc:
        process.join(1.0)
        code = process.exitcode
        raise MicviewError(f"The watch's helper process ended unexpectedly (exit code {code}).") from exc


def _stop(conn: Connection, process: Any) -> None:
    """Ask the helper to stop at its next step (it commits what it has), and end it if it does not."""
    with contextlib.suppress(OSError):
        conn.send("stop")
    process.join(STOP_WAIT_S)
    if process.is_alive():
        process.kill()
        process.join(5.0)
    conn.close()


def _serve(conn: Connection, project_path: str, folder: str, options: WatchOptions, seconds: float | None) -> None:
    """The helper: run the watch, sending each step; stop when told to (or when the window's process dies)."""
    from micview.core.reader_pool import exit_with_parent
    from micview.ml.watch.run import watch_folder

    exit_with_parent()
    stopped = False

    def told_to_stop() -> bool:
        nonlocal stopped
        with contextlib.suppress(EOFError, OSError):
            stopped = stopped or (conn.poll() and conn.recv() == "stop")
        return stopped

    try:
        task = watch_folder(project_path, folder, options, seconds=seconds)
        summary = run_task(task, lambda step: conn.send(("step", step)), told_to_stop)
        conn.send(("done", summary))
    except Cancelled:
        pass
    except BaseException as exc:  # every failure goes back to the window, which reports it
        with contextlib.suppress(OSError):
            conn.send(("error", _portable(exc)))
    finally:
        conn.close()


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives the pipe; else a plain one that says what and where."""
    if isinstance(exc, MicviewError):
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:  # an error type that does not pickle still gets its message through
            return MicviewError(str(exc))
    details = "".join(traceback.format_exception(exc))
    return RuntimeError(f"{type(exc).__name__} in the watch's helper process: {exc}\n\n{details}")
