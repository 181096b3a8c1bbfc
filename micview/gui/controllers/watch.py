"""Watch mode in the window: start and stop the watch job, and apply what it reports to the Session.

The watch itself is :func:`micview.ml.watch.watch_folder`, the task ``micview watch`` runs, here as a
background job on the ``io`` pool that runs it in a helper process (:mod:`micview.ml.watch.helper`: loading
torch and the model, fitting the classifier and UMAP's numba code would otherwise hold this process's GIL for
up to a second at a time, freezing the window). Each progress step carries the arrivals and alert hits of
that moment; on the GUI thread they become: points appended to the shown map at once (``MapState.append``:
existing points keep their place, the zoom stays), new rows in the catalog soon after (the grid, the plate view
and the predictions update; :class:`_Rows` keeps that to a quarter of the GUI thread's time on big projects),
the "new" highlight (:mod:`micview.gui.watch_state`), a notice per alert and one offering a refit of the map
when more than 20 % of its points were placed after it was fitted.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer

from micview.gui.controllers.safety import refuse_write
from micview.gui.session import Session
from micview.gui.watch_state import WatchState, watch_state
from micview.gui.workers import Job


class WatchController:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.state: WatchState = watch_state(session)
        self._rows = _Rows(session)
        self._method = session.map.method
        self._wells: Any = None

    @property
    def job(self) -> Job | None:
        job = getattr(self.state, "job", None)
        return job if job is not None and not job.done else None

    def start(self, folder: str | Path, rules: list[str] | None = None, *, polling: bool | None = None,
              alert_log: str = "", alert_command: str = "") -> Job | None:  # fmt: skip
        """Watch ``folder`` (until :meth:`stop`); alert ``rules`` as the CLI's ``--alert`` texts."""
        from micview.core.errors import MicviewError
        from micview.core.watch import CommandSink, JsonLinesSink, parse_rule
        from micview.ml.watch import WatchOptions, watch_folder

        project = self.session.project
        if project is None or self.job is not None:
            return None
        if refuse_write(self.session, f"Watching {Path(folder).name or folder}"):
            return None
        try:
            parsed = tuple(parse_rule(r) for r in (rules or []) if r.strip())
            sinks: list[Any] = [JsonLinesSink(alert_log)] if alert_log else []
            sinks += [CommandSink(alert_command)] if alert_command else []
        except MicviewError as exc:
            self.session.errors.report("Watch not started", str(exc))
            return None
        options = WatchOptions(
            model_id=self.session.model_id, task=self.session.task.name or None, method=self.session.map.method,
            device=self.session.settings.device, rules=parsed, polling=polling, separate_process=True,
        )  # fmt: skip
        path, folder = project.path, Path(folder)
        self._wells, self._method = None, self.session.map.method
        # the drops' time points, for the trajectories: parsing every name takes seconds at 100 000 images
        self.session.jobs.start("Reading the plates' wells", lambda: _read_wells(path), quiet=True,
                                on_result=lambda wells: self._on_wells(wells, path))  # fmt: skip
        job = self.session.jobs.start(
            f"Watch {folder.name}", lambda: watch_folder(path, folder, options, sinks=sinks), pool="io",
            on_result=lambda _summary: self._ended(sinks), on_cancel=lambda: self._ended(sinks),
            on_error=lambda msg, details: self._failed(msg, details, sinks),
        )  # fmt: skip
        job.yielded.connect(self._on_step)
        self.state.job = job  # type: ignore[attr-defined]
        self.state.set_running(True, str(folder), f"Starting to watch {folder}")
        return job

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.state.set_status("Stopping…")

    def refit(self) -> Job | None:
        """Fit the shown map anew on every image (new points then have room of their own), then show it."""
        project = self.session.project
        if project is None:
            return None
        from micview.gui.controllers.maps import MapController

        path, model_id, method = project.path, self.session.model_id, self.session.map.method
        self.state.refit_suggested = False
        self.state.changed.emit()
        return self.session.jobs.start(
            f"Refit the {method.upper()} map", lambda: _refit(path, model_id, method),
            on_result=lambda _r: MapController(self.session).refresh(),
            on_error=lambda msg, details: self.session.errors.report("Refit failed", msg, details),
        )  # fmt: skip

    # -- what the job reports (GUI thread) -----------------------------------------------------------------------
    def _on_step(self, step: Any) -> None:
        self.state.set_status(step.message)
        if step.event in ("vanished", "returned"):
            self.session.status(step.message, 15_000)
        if step.arrivals:
            self._show(list(step.arrivals))
        for hit in step.hits:
            text = f"Alert ({hit.rule}): {hit.arrival.name} — {hit.why}"
            self.session.notify(text, (("Show alerts", "watch_alerts"),))
        self.state.add(list(step.arrivals), list(step.hits))
        if step.event == "refit":
            self.state.refit_suggested = True
            self.session.notify("More than 20 % of the map's points were placed after it was fitted.",
                                (("Refit map", "refit_map"),))  # fmt: skip

    def _show(self, arrivals: list[Any]) -> None:
        """The map at once (a few milliseconds whatever its size); the grid's rows soon after (see _Rows)."""
        if self.session.project is None:
            return
        self._extend_map(arrivals)
        self._trace_wells(arrivals)
        self._rows.add(arrivals)

    def _extend_map(self, arrivals: list[Any]) -> None:
        """Add the new points to the shown map (``MapState.append``): the others stay, and so does the zoom."""
        data = self.session.map.data
        placed = [a for a in arrivals if a.xy is not None]
        if data is None or not placed or (data.model_id, data.method) != (self.session.model_id, self._method):
            return
        ids, first = np.unique(np.array([a.image_id for a in placed], np.int64), return_index=True)
        keep = ~np.isin(ids, data.ids)  # a rewritten file keeps its point
        xy = np.array([a.xy for a in placed], np.float32).reshape(-1, 2)[first][keep]
        new = len(self.state.new_ids | set(ids.tolist()))
        text = f"{data.method.upper()} of {len(data.ids) + int(keep.sum()):,} images · {data.model_id} · {new} new"
        self.session.map.append(ids[keep], xy, text)

    def _on_wells(self, wells: Any, path: Path) -> None:
        project = self.session.project
        if project is None or project.path != path or not self.state.running:
            return  # read for a watch that has ended
        self._wells = wells
        self._trace_wells(self.state.arrivals)  # the images that arrived meanwhile
        self.state.changed.emit()

    def _trace_wells(self, arrivals: list[Any]) -> None:
        from micview.core.watch.wells import trajectories

        project, data = self.session.project, self.session.map.data
        wells = self._wells
        if project is None or data is None or wells is None:
            return
        for a in arrivals:
            wells.add(a.image_id, project.to_stored(a.path))
        wanted = set(wells.where)
        rows = np.flatnonzero(np.isin(data.ids, np.fromiter(wanted, np.int64, len(wanted))))
        points = {int(data.ids[r]): (float(data.xy[r, 0]), float(data.xy[r, 1])) for r in rows}
        self.state.trajectories = trajectories(wells, points)

    def _ended(self, sinks: list[Any]) -> None:
        self._rows.flush()
        for sink in sinks:
            sink.close(0.2)  # queued alert commands go on in their own thread, each within its time limit
        self.state.set_running(False, status=f"Stopped watching {self.state.folder}")

    def _failed(self, message: str, details: str, sinks: list[Any]) -> None:
        self._ended(sinks)
        self.session.errors.report("Watch stopped", message, details)


class _Rows(QObject):
    """The grid's rows of new images: added at once while that is cheap, and at most :data:`SHARE` of the GUI
    thread's time while it is not.

    A catalog change makes the views re-read what they show (the grid every label and prediction of the task:
    half a second at 100 000 images), and the predictions written for the new images reach the grid, the plate
    view and the map's colour choices that way (``labels_changed`` is not sent for them: the Classify tab would
    retrain on each image). At one image a second, a change per image would keep the window busy; so after a
    change that took ``t`` (its repaints included) the next waits until ``t / SHARE`` has passed since it
    started, which on a small project (``t`` a few milliseconds) is at once.
    """

    SHARE = 0.25

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.pending: list[Any] = []
        self.cost = 0.0  # seconds the last change took
        self.last = 0.0  # when it started (time.monotonic)
        self.timer = QTimer(self, singleShot=True)
        self.timer.timeout.connect(self.flush)
        session.project_changed.connect(self._on_project_changed)

    def add(self, arrivals: list[Any]) -> None:
        self.pending += arrivals
        if not self.timer.isActive():
            wait = self.last + self.cost / self.SHARE - time.monotonic()
            self.timer.start(max(0, round(wait * 1000)))

    def flush(self) -> None:
        self.timer.stop()
        arrivals, self.pending = self.pending, []
        project = self.session.project
        if project is None or not arrivals:
            return
        self.last = time.monotonic()
        catalog = self.session.catalog
        fresh = list({a.image_id: a for a in arrivals if catalog.row(a.image_id) is None}.values())
        if len(fresh) == len(arrivals):
            catalog.set_rows(catalog.rows + [project.images.get(a.image_id) for a in fresh])
        else:
            catalog.reload(project)  # a file was rewritten: its row changed
        self.cost = time.monotonic() - self.last
        QTimer.singleShot(0, self._settled)  # after the views' repaints, which the change posted

    def _on_project_changed(self, _project: object) -> None:
        self.timer.stop()
        self.pending = []  # images of the project that was closed

    def _settled(self) -> None:
        self.cost = time.monotonic() - self.last


def _read_wells(path: Path) -> Any:
    from micview.core.store import Project
    from micview.core.tasks import Progress
    from micview.core.watch.wells import WellIndex

    yield Progress(0, 0, "Reading the plates' wells")
    with Project.open(path) as project:
        return WellIndex.of_project(project)


def _refit(path: Path, model_id: str, method: str) -> Any:
    from micview.core.store import Project
    from micview.ml.maps import map_task

    with Project.open(path) as project:
        result = yield from map_task(project, model_id, method, refit=True)
    return replace(result, cached=False)
