"""The tasks the GUI runs in the background, as factories for :class:`~micview.gui.workers.JobManager`.

Each factory returns a generator that opens its OWN project connection on the worker thread (SQLite
connections are per thread) and closes it when the task ends, is cancelled or fails. Heavy modules (the ml
layer, torch) are imported inside, on the worker thread, so the window never waits for them. Models come from
the one process-wide cache (:mod:`micview.ml.model_cache`), so search, embedding and classification share them.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.store import Project
from micview.core.tasks import Progress

Gen = Generator[Progress, None, Any]


def embedder(model_id: str, device: str) -> Any:
    """A loaded model from the shared cache (search and re-embedding do not reload it)."""
    from micview.ml.model_cache import shared

    return shared().embedder(model_id, device)


# -- opening ---------------------------------------------------------------------------------------------------
def prepare_open(path: Path) -> Gen:
    """Do the slow part of opening ``path`` here, off the GUI thread: the check at open, an upgrade (after its
    backup), today's backup when one is due, a wait for another micview's write. Returns None when the project
    opens (the window then opens it again, quickly: the check remembers what it found and the backup is done),
    or the :class:`~micview.core.errors.MicviewError` that refused it, for the window to report."""
    from micview.core.errors import MicviewError

    yield Progress(0, 0, f"Opening {path.name}: checking it (and making today's backup when one is due)")
    try:
        with Project.open(path):
            pass
    except MicviewError as exc:
        return exc
    return None


# -- images in ---------------------------------------------------------------------------------------------------
def import_folder(path: Path, folder: Path) -> Gen:
    from micview.core.importer import add_folder

    with Project.open(path) as project:
        return (yield from add_folder(project, folder))


def import_files(path: Path, paths: list[Path]) -> Gen:
    """Add files and folders (dropped on the window, File ▸ Add files…) in one pass of the importer: per-file time
    limits, special files skipped unopened (listed), moved files keep their record, any name stored losslessly."""
    from micview.core.importer import add_paths

    with Project.open(path) as project:
        return (yield from add_paths(project, paths))


# -- labels in and out ---------------------------------------------------------------------------------------------
def import_labels(
    path: Path, csv_path: Path, tasks: list[str] | None, *, last_wins: bool = False, match_names: bool = False
) -> Gen:
    """``micview import-labels`` in the background; returns its :class:`~micview.core.csv_io.LabelImportReport`."""
    from micview.core.csv_io import import_labels as read_labels

    yield Progress(0, 0, f"Reading {csv_path.name}")
    with Project.open(path) as project:
        return read_labels(project, csv_path, tasks=tasks, last_wins=last_wins, match_names=match_names)


def export_labels(path: Path, out: Path, ids: list[int] | None) -> Gen:
    """Export every image (``ids`` None) or only ``ids``, in the CLI's CSV format; returns the row count."""
    from micview.core.csv_io import export_csv

    yield Progress(0, 0, f"Writing {out.name}")
    with Project.open(path) as project:
        return export_csv(project, out, image_ids=ids)


# -- models ----------------------------------------------------------------------------------------------------------
def embed(path: Path, model_id: str, device: str) -> Gen:
    from micview.ml.embedding import embed_project, todo_rows

    with Project.open(path) as project:
        rows, _ = todo_rows(project, model_id)
        model = None
        if rows:
            yield Progress(0, len(rows), f"Loading {model_id}")
            model = embedder(model_id, device)
        return (yield from embed_project(project, model_id, embedder=model))


def make_map(path: Path, model_id: str, method: str) -> Gen:
    from micview.ml.maps import map_task

    with Project.open(path) as project:
        return (yield from map_task(project, model_id, method))


def similar(path: Path, image_id: int, model_id: str, device: str, k: int) -> Gen:
    from micview.ml.search import load_index, similar_images

    yield Progress(0, 0, "Searching")
    with Project.open(path) as project:
        index = load_index(project, model_id)
        model = None if image_id in index else embedder(model_id, device)
        return similar_images(project, image_id, model_id, k, index=index, embedder=model)


def text_search(path: Path, text: str, model_id: str, device: str, k: int) -> Gen:
    from micview.ml.registry import get_spec
    from micview.ml.search import load_index, search_text

    yield Progress(0, 0, f"Searching for “{text}”")
    get_spec(model_id)  # unknown model: a clear error before anything loads
    with Project.open(path) as project:
        index = load_index(project, model_id)
        model = embedder(model_id, device) if get_spec(model_id).has_text else None
        return search_text(project, text, model_id, k, index=index, embedder=model)


def read_frame(image_path: Path, frame: int) -> Gen:
    """Full-resolution pixels of one frame for the viewer (files can be hundreds of MB: not on the GUI thread)."""
    from micview.core.imaging import read_frame as read

    yield Progress(0, 0, f"Reading {image_path.name}")
    return np.asarray(read(image_path, frame))
