"""What the main window starts in the background (import, embedding, maps, search) and how results land.

Every job opens its own project connection (see :mod:`micview.gui.background`); results are applied here,
on the GUI thread, through the job's ``returned`` signal. Model jobs go to the one-thread model pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QStandardPaths, Qt

from micview.core.store import Project
from micview.gui import background
from micview.gui.columns import column_names, column_values
from micview.gui.workers import Job

if TYPE_CHECKING:
    from micview.gui.main_window import MainWindow

SEARCH_K = 24


class ActionsMixin:
    """Mixed into :class:`~micview.gui.main_window.MainWindow` (kept apart to keep both files small)."""

    _map_generation = 0

    # -- import ---------------------------------------------------------------------------------------------------
    def new_project_from_folder(self: MainWindow, folder: Path, project_path: Path | None = None) -> Job | None:
        """Create (or reopen) ``folder/<name>.micview`` and import the folder into it in the background."""
        path = project_path or folder / f"{folder.name or 'images'}.micview"
        if path.exists():
            if not self.open_project(path):
                return None
        else:
            try:
                self._set_project(Project.create(path))
            except Exception as exc:
                self.show_error("Cannot create the project", str(exc))
                return None
        return self.import_folder(folder)

    def import_folder(self: MainWindow, folder: Path) -> Job:
        assert self.project is not None
        job = self.jobs.start(f"Import {folder.name}", lambda p=self.project.path: background.import_folder(p, folder))
        job.returned.connect(lambda summary: self._on_import_done(summary))
        job.cancelled.connect(self.reload_images)
        job.errored.connect(lambda msg, details: self.show_error("Import failed", msg, details))
        return job

    def _on_import_done(self: MainWindow, summary: Any) -> None:
        if self.project is None:
            return
        self.reload_images()
        errors = f", {len(summary.errors)} could not be read" if summary.errors else ""
        self.statusBar().showMessage(f"Imported {summary.added} new images{errors}.", 10_000)
        self.refresh_map()

    def open_sample(self: MainWindow, folder: Path | None = None) -> Job | None:
        """Generate the sample images (once) into a user folder, and open them as a pre-labelled project."""
        from micview.gui.sample_data import write_sample

        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        folder = folder or Path(base) / "sample"
        if not (folder / "LICENCE.txt").exists():
            write_sample(folder)
        path = folder / "sample.micview"
        fresh = not path.exists()
        job = self.new_project_from_folder(folder, path)
        if job is not None and fresh:
            job.returned.connect(lambda _s: self._label_sample(folder))
        return job

    def _label_sample(self: MainWindow, folder: Path) -> None:
        """Label two images in three so the sample has both labelled and unlabelled images to explore."""
        from micview.gui.sample_data import KINDS, sample_labels

        if self.project is None:
            return
        truth = sample_labels(folder)
        self.labels.define("structure", list(KINDS))
        rows = self.browser.model.rows
        self.project.labels.set_many(
            "structure", {r.id: truth[r.name] for k, r in enumerate(rows) if k % 3 and r.name in truth}
        )
        self.labels.set_task("structure")
        self.embed_images()

    # -- embeddings and maps ------------------------------------------------------------------------------------
    def model_choices(self: MainWindow) -> list[tuple[str, str, bool]]:
        from micview.ml.registry import all_models

        return [(s.id, s.description, s.has_text) for s in all_models()]

    @property
    def model_id(self: MainWindow) -> str:
        return self.search_bar.model_id or self.settings.model_id

    def embed_images(self: MainWindow) -> Job | None:
        if self.project is None:
            return None
        model_id, device, path = self.model_id, self.settings.device, self.project.path
        job = self.jobs.start(f"Embed with {model_id}", lambda: background.embed(path, model_id, device), pool="model")
        job.returned.connect(lambda summary: self._on_embed_done(summary))
        job.errored.connect(lambda msg, details: self.show_error("Embedding failed", msg, details))
        job.cancelled.connect(self.refresh_map)
        self.scatter.set_message(f"Computing embeddings with {model_id}…")
        return job

    def _on_embed_done(self: MainWindow, summary: Any) -> None:
        rate = f" ({summary.images_per_s:.0f} images/s)" if summary.embedded else ""
        self.statusBar().showMessage(f"Embedded {summary.embedded} images with {summary.model_id}{rate}.", 10_000)
        self.refresh_map()

    def refresh_map(self: MainWindow) -> None:
        """Show PCA at once (or a stored map), then UMAP from a worker process when UMAP is chosen."""
        if self.project is None:
            return
        model_id = self.model_id
        if not any(m == model_id and n for m, n, _ in self.project.embeddings.models()):
            self.scatter.set_map([], [])
            self.scatter.set_message(f"No embeddings with {model_id} yet — Images ▸ Compute embeddings (Ctrl+E).")
            return
        self._map_generation += 1
        methods = ["pca", "umap"] if self.scatter.method == "umap" else ["pca"]
        for method in methods:
            self._start_map(model_id, method, self._map_generation)

    def _start_map(self: MainWindow, model_id: str, method: str, generation: int) -> Job:
        path = self.project.path
        job = self.jobs.start(f"{method.upper()} map", lambda: background.make_map(path, model_id, method),
                              quiet=method == "pca")  # fmt: skip
        job.returned.connect(lambda result: self._on_map_ready(result, generation))
        job.errored.connect(lambda msg, details: self.show_error("Map failed", msg, details))
        if method == "umap":
            job.yielded.connect(
                lambda p: self.scatter.status.setText(p.message) if self.scatter.method == "umap" else None
            )
        return job

    def _on_umap_progress(self: MainWindow, message: str) -> None:
        if self.scatter.method == "umap" and len(self.scatter.ids):
            self.scatter.status.setText(f"{self.scatter.status.text().split(' · UMAP')[0]} · {message}")

    def _on_map_ready(self: MainWindow, result: Any, generation: int) -> None:
        if generation != self._map_generation or self.project is None:
            return  # a newer request (other model or method) superseded this one
        shown = getattr(self, "_shown_map_method", None)
        if result.method == "pca" and shown == "umap" and self.scatter.method == "umap":
            return  # a stored UMAP arrived first
        self._shown_map_method = result.method
        pending = result.method == "pca" and self.scatter.method == "umap"
        title = f"{result.method.upper()} of {len(result.ids):,} images · {result.model_id}"
        self.scatter.set_map(result.ids, result.xy, title + (" · UMAP computing…" if pending else ""))
        self.scatter.set_color_options(column_names(self.project), self._column_values)

    def _column_values(self: MainWindow, name: str) -> tuple[dict[int, Any], list[str] | None]:
        return column_values(self.project, self.browser.model.rows, name)

    def _on_model_changed(self: MainWindow, model_id: str) -> None:
        self.settings.model_id = model_id
        self.results.clear()
        self.refresh_map()

    # -- search -------------------------------------------------------------------------------------------------
    def search_text(self: MainWindow, text: str) -> Job | None:
        from micview.ml.registry import get_spec

        model_id = self.model_id
        if self.project is None:
            return None
        if not get_spec(model_id).has_text:
            self.search_bar.message.setText("")
            self.show_search_message(
                f"{model_id} is image-only, so it cannot search by text. Add a CLIP or SigLIP model with "
                "`micview models add PATH` (or `micview models pull ID` when online), choose it under Model, "
                "embed, and search again. “More like this” works with every model."
            )
            return None
        path, device = self.project.path, self.settings.device
        return self._start_search(f"“{text}”", lambda: background.text_search(path, text, model_id, device, SEARCH_K))

    def search_similar(self: MainWindow) -> Job | None:
        image_id = self.selection.current
        if self.project is None or image_id is None:
            self.show_search_message("Select an image first: “More like this” finds the images most like it.")
            return None
        row = self.browser.model.row_for_id(image_id)
        path, model_id, device = self.project.path, self.model_id, self.settings.device
        job = self._start_search(f"images like {row.name if row else image_id}",
                                 lambda: background.similar(path, image_id, model_id, device, SEARCH_K))  # fmt: skip
        return job

    def _start_search(self: MainWindow, query: str, factory: Any) -> Job:
        job = self.jobs.start(f"Search {query}", factory, pool="model", quiet=True)
        job.returned.connect(lambda hits: self.results.set(hits.ids, hits.scores, query))
        job.errored.connect(lambda msg, _d: self.show_search_message(msg))
        return job

    def show_search_message(self: MainWindow, text: str) -> None:
        self.last_error = (text, "")
        self.statusBar().showMessage(text, 20_000)
        from PySide6.QtWidgets import QToolTip

        QToolTip.showText(self.search_bar.mapToGlobal(self.search_bar.rect().bottomLeft()), text, self.search_bar)

    # -- viewer, selection, labels -------------------------------------------------------------------------------
    def open_viewer(self: MainWindow, image_id: int) -> None:
        from micview.gui.viewer import ViewerWindow

        row = self.browser.model.row_for_id(image_id)
        if row is None or self.project is None:
            return
        if self.viewer is None:
            self.viewer = ViewerWindow(self.jobs)
        self.viewer.show_image(row, self.project.resolve(row.path), self.project.images.metadata(image_id))
        self.viewer.show()
        self.viewer.raise_()

    def open_current(self: MainWindow) -> None:
        if self.selection.current is not None:
            self.open_viewer(self.selection.current)

    def select_all_shown(self: MainWindow) -> None:
        self.selection.set(self.browser.model.visible_ids().tolist(), source=None)

    def _on_selection_changed(self: MainWindow, _source: object) -> None:
        info = self.side_panel.info
        image_id = self.selection.current
        row = self.browser.model.row_for_id(image_id) if image_id is not None else None
        if row is None or self.project is None:
            info.title.setText("No image selected")
            info.picture.clear()
            info.tree.show_row(None, {})
            return
        more = f"  (+{len(self.selection) - 1} more selected)" if len(self.selection) > 1 else ""
        info.title.setText(row.name + more)
        pixmap = self.browser.model.thumbnail(row.id)
        if pixmap is not None:
            info.picture.setPixmap(pixmap.scaled(240, 240, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))  # fmt: skip
        info.tree.show_row(row, self.project.images.metadata(row.id))

    def _on_labels_changed(self: MainWindow, *_args: object) -> None:
        if self.project is None:
            return
        task = self.labels.task
        labels = self.project.labels.labels(task) if task else {}
        preds = {i: (a.label, a.score) for i, a in self.project.labels.current(task, "model").items()} if task else {}
        self.browser.model.set_annotations(labels, preds)
        pred_values = sorted({p[0] for p in preds.values() if p[0]})
        self.browser.set_choices(self.labels.classes, sorted(set(labels.values())), pred_values)
        if len(self.scatter.ids):
            self.scatter.set_color_options(column_names(self.project), self._column_values)
            if task and self.scatter.color_combo.currentText() != f"Label: {task}":
                self.scatter.color_combo.setCurrentText(f"Label: {task}")
