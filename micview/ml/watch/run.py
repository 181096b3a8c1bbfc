"""``micview watch`` and the GUI's watch toggle: one generator task that watches, takes files in and runs the
live pipeline until it is cancelled or its time is up.

It opens its own project connection (it runs on a worker thread, or for the window in a helper process:
:mod:`micview.ml.watch.helper`) and yields a
:class:`WatchProgress` at least every :data:`TICK_S` — with the arrivals and alert hits of that moment, if
any — so a cancel (the GUI) or ``--for`` ends it within a fraction of a second, and Ctrl-C (the CLI) ends it
at once; what was taken in is committed image by image, so nothing is lost either way.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micview.core.errors import MicviewError
from micview.core.store import Project
from micview.core.store.paths import readable
from micview.core.tasks import Progress, Task
from micview.core.watch import FolderWatcher, Hit, NotTaken, Taken, check_all, take
from micview.core.watch.arrival import Arrival
from micview.core.watch.intake import import_run_params
from micview.ml.watch.pipeline import LivePipeline, WatchOptions

TICK_S = 0.25
BATCH = 16  # images embedded together when many are ready at once (a backlog at start)


@dataclass(frozen=True, slots=True)
class WatchProgress(Progress):
    """A progress step with what just happened: ``arrivals``, alert ``hits`` and ``event`` (``vanished``,
    ``returned``, ``refit`` — more than :data:`~micview.ml.map_growth.REFIT_ABOVE` of the map was placed)."""

    arrivals: tuple[Arrival, ...] = ()
    hits: tuple[Hit, ...] = ()
    event: str = ""


@dataclass
class WatchSummary:
    folder: str
    seconds: float = 0.0
    arrived: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    hits: int = 0
    latencies: list[float] = field(default_factory=list)
    added_fraction: float = 0.0
    notes: list[str] = field(default_factory=list)


def watch_folder(
    project_path: str | Path,
    folder: str | Path,
    options: WatchOptions | None = None,
    *,
    seconds: float | None = None,
    sinks: Sequence[Any] = (),
) -> Task[WatchSummary]:
    """Watch ``folder`` for ``seconds`` (``None``: until cancelled); see the module docstring."""
    options = options or WatchOptions()
    root = Path(folder).absolute()
    if root.exists() and not root.is_dir():
        raise MicviewError(f"{readable(str(root))} is a file, not a folder; watch the folder it is in.")
    if options.separate_process:
        from micview.ml.watch.helper import watch_in_helper

        return (yield from watch_in_helper(project_path, root, options, seconds=seconds, sinks=sinks))
    with Project.open(project_path) as project:
        if project.read_only:
            raise MicviewError(f"{project.path} is open read-only ({project.read_only_reason}); cannot add images.")
        summary = WatchSummary(str(root))
        params = import_run_params(project, root, options.recursive, options.extensions)
        project.runs.record("import", f"import:{params['folder']}", "watch", params)
        pipeline = LivePipeline(project, options)
        yield WatchProgress(0, 0, f"Loading {options.model_id} and the map (UMAP's first use compiles for a minute)")
        pipeline.warm_up()
        try:
            return (yield from _loop(project, root, options, pipeline, summary, seconds, sinks))
        finally:
            pipeline.close()
            summary.notes += options.notes


def _loop(
    project: Project, root: Path, options: WatchOptions, pipeline: LivePipeline, summary: WatchSummary,
    seconds: float | None, sinks: Sequence[Any],
) -> Task[WatchSummary]:  # fmt: skip
    start = time.monotonic()
    end = start + seconds if seconds is not None else float("inf")
    watcher = FolderWatcher(root, recursive=options.recursive, extensions=options.extensions,
                            polling=options.polling, poll_s=options.poll_s, settle_s=options.settle_s,
                            give_up_s=options.give_up_s)  # fmt: skip
    refit_told = False
    with watcher:
        if not watcher.poll(0).reachable:
            yield WatchProgress(0, 0, f"{readable(str(root))} is not reachable yet; waiting for it", event="vanished")
        yield WatchProgress(0, 0, f"Watching {readable(str(root))} ({watcher.mode})")
        while (now := time.monotonic()) < end:
            look = watcher.poll(min(TICK_S, end - now))
            event, message = _folder_event(look, root)
            taken = _take_ready(project, watcher, look.ready, summary)
            arrivals: list[Arrival] = []
            for k in range(0, len(taken), BATCH):
                arrivals += pipeline.process(taken[k : k + BATCH])
            hits = [h for a in arrivals for h in check_all(options.rules, a)]
            for hit in hits:
                for sink in sinks:
                    sink.send(hit)
            summary.arrived += len(arrivals)
            summary.hits += len(hits)
            summary.latencies += [a.latency for a in arrivals if a.latency]
            if arrivals and not refit_told and _needs_refit(project, pipeline, summary):
                event, refit_told = "refit", True
            yield WatchProgress(summary.arrived, 0, message or _line(arrivals, summary), tuple(arrivals),
                                tuple(hits), event)  # fmt: skip
    summary.seconds = time.monotonic() - start
    return summary


def _folder_event(look: Any, root: Path) -> tuple[str, str]:
    if look.vanished:
        return "vanished", f"{readable(str(root))} is not reachable; waiting for it to come back"
    if look.returned:
        return "returned", f"{readable(str(root))} is back; looking for new images"
    return "", ""


def _take_ready(project: Project, watcher: FolderWatcher, ready: list[Any], summary: WatchSummary) -> list[Taken]:
    """Store each complete file that decodes; the rest wait for a change (or the give-up time)."""
    taken = []
    for found in ready:
        now = time.monotonic()
        result = take(project, found, store_error=watcher.readiness.gave_up(found.path, now))
        if isinstance(result, Taken):
            watcher.readiness.handed_out(found)
            taken.append(result)
        elif result.why == "undecodable":
            watcher.readiness.undecodable(found, now)
        elif result.why in ("unchanged", "unreadable"):
            watcher.readiness.handed_out(found)
            if result.why == "unreadable":
                summary.unreadable.append((readable(str(found.path)), result.reason))
    return taken


def _needs_refit(project: Project, pipeline: LivePipeline, summary: WatchSummary) -> bool:
    from micview.ml.map_growth import REFIT_ABOVE, added_fraction

    method = pipeline.method
    if method is None or pipeline.placer is None:
        return False
    summary.added_fraction = added_fraction(project, pipeline.placer.runs[method].id)
    return summary.added_fraction > REFIT_ABOVE


def _line(arrivals: list[Arrival], summary: WatchSummary) -> str:
    if not arrivals:
        return f"Watching: {summary.arrived} new image{'s' * (summary.arrived != 1)} so far"
    last = arrivals[-1]
    guess = f": {last.guess.label} {last.guess.score:.2f}" if last.guess else ""
    return f"{last.name}{guess}"


def describe(arrival: Arrival | NotTaken) -> str:
    """One line for the terminal about an arrival."""
    if isinstance(arrival, NotTaken):
        return f"{arrival.found.path.name}: {arrival.reason}"
    parts = [arrival.name]
    if arrival.xy is not None:
        parts.append(f"at ({arrival.xy[0]:.2f}, {arrival.xy[1]:.2f})")
    parts += [f"{g.label} {g.score:.2f} ({g.source})" for g in arrival.guesses]
    if arrival.neighbours:
        n = arrival.neighbours[0]
        parts.append(f"nearest labelled: {n.name} [{n.label}] {n.similarity:.2f}")
    if arrival.well is not None:
        parts.append(f"well {arrival.well.plate} {arrival.well.well} t={arrival.well.time}")
    parts += list(arrival.notes)
    if arrival.latency:
        parts.append(f"{arrival.latency:.2f} s")
    return " · ".join(parts)
