"""Embeddings and maps: compute the vectors, then show PCA at once and UMAP when it is ready.

Writes :attr:`Session.map <micview.gui.session.Session.map>`; the map view only observes it. Every request
bumps ``map.generation``: a map computed for an older request (another model, method or project) is dropped
when it arrives.
"""

from __future__ import annotations

from typing import Any

from micview.core.tasks import Progress
from micview.gui import background
from micview.gui.controllers.safety import refuse_write
from micview.gui.session import Session
from micview.gui.state import MapData
from micview.gui.workers import Job


class MapController:
    def __init__(self, session: Session) -> None:
        self.session = session

    def model_choices(self) -> list[tuple[str, str, bool]]:
        """``(id, description, has_text)`` of every model micview knows (the registry; loads no model)."""
        from micview.ml.registry import all_models

        return [(s.id, s.description, s.has_text) for s in all_models()]

    def missing_embeddings(self) -> int:
        """How many readable images have no vector of the current model yet."""
        project = self.session.project
        if project is None:
            return 0
        counts = {m: n for m, n, _ in project.embeddings.models()}
        return max(0, len(self.session.catalog) - counts.get(self.session.model_id, 0))

    def embed(self) -> Job | None:
        """Compute the missing vectors of the current model (on the one model thread), then refresh the map."""
        project = self.session.project
        if project is None or refuse_write(self.session, "Computing embeddings"):
            return None
        model_id, device, path = self.session.model_id, self.session.settings.device, project.path
        self.session.map.embedding = True
        if self.session.map.data is None:
            self.session.map.set_empty(f"Computing embeddings with {model_id}…")
        return self.session.jobs.start(
            f"Embed with {model_id}", lambda: background.embed(path, model_id, device), pool="model",
            on_result=self._on_embedded,
            on_error=lambda msg, details: self._failed("Embedding failed", msg, details),
            on_cancel=self._on_cancelled,
        )  # fmt: skip

    def _on_embedded(self, summary: Any) -> None:
        self.session.map.embedding = False
        rate = f" ({summary.images_per_s:.0f} images/s)" if summary.embedded else ""
        self.session.status(f"Embedded {summary.embedded:,} images with {summary.model_id}{rate}.")
        self.refresh()

    def _on_cancelled(self) -> None:
        self.session.map.embedding = False
        self.refresh()

    def _failed(self, title: str, message: str, details: str) -> None:
        self.session.map.embedding = False
        self.session.errors.report(title, message, details)
        self.refresh()

    def set_method(self, method: str) -> None:
        if method != self.session.map.method:
            self.session.map.method = method
            self.refresh()

    def set_model(self, model_id: str) -> None:
        """Use another embedding model for the map and search (its map, or how to compute it)."""
        self.session.set_model_id(model_id)
        self.session.results.clear()
        self.refresh()

    def refresh(self) -> None:
        """Show PCA at once (or a stored map), then UMAP from a worker process when UMAP is chosen."""
        project, state = self.session.project, self.session.map
        state.generation += 1
        if project is None:
            state.set_empty("")
            return
        model_id = self.session.model_id
        if not any(m == model_id and n for m, n, _ in project.embeddings.models()):
            if state.embedding:
                state.set_empty(f"Computing embeddings with {model_id}…")
                return
            count = len(self.session.catalog)
            if project.read_only:
                state.set_empty(f"No embeddings with {model_id} in this project, and it is open read-only "
                                f"({project.read_only_reason}), so none can be computed here.")  # fmt: skip
                return
            what = f"{count:,} image{'s' * (count != 1)}" if count else "the images"
            state.set_empty(f"No embeddings with {model_id} yet. Computing them for {what} makes the map and "
                            "“More like this” work.", "embed" if count else "")  # fmt: skip
            return
        methods = ["pca", "umap"] if state.method == "umap" else ["pca"]
        for method in methods:
            self._start(model_id, method, state.generation)

    def _start(self, model_id: str, method: str, generation: int) -> Job:
        path = self.session.require_project().path
        job = self.session.jobs.start(
            f"{method.upper()} map", lambda: background.make_map(path, model_id, method), quiet=method == "pca",
            on_result=lambda result: self._on_map(result, generation),
            on_error=lambda msg, details: self.session.errors.report("Map failed", msg, details),
        )  # fmt: skip
        if method == "umap":
            job.yielded.connect(lambda p: self._on_umap_progress(p, generation))
        return job

    def _on_umap_progress(self, progress: Progress, generation: int) -> None:
        if generation == self.session.map.generation and self.session.map.method == "umap":
            self.session.map.set_progress(f"UMAP: {progress.message}")

    def _on_map(self, result: Any, generation: int) -> None:
        state = self.session.map
        if generation != state.generation or self.session.project is None:
            return  # a newer request (other model, method or project) superseded this one
        if result.method == "pca" and state.data is not None and state.data.method == "umap" == state.method:
            return  # a stored UMAP arrived first
        pending = result.method == "pca" and state.method == "umap"
        title = f"{result.method.upper()} of {len(result.ids):,} images · {result.model_id}"
        data = MapData(result.ids, result.xy, result.method, result.model_id, title)
        state.set_data(data, "UMAP computing…" if pending else "")
