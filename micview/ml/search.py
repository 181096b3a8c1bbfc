"""Searching a project: text → images (models with a text tower) and image → similar images (any model).

The vector maths is :mod:`micview.core.search` (numpy only); this module adds what needs a model — encoding
a text query, or an image file that is not in the project — and finds the project's vectors.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.search import Hits, VectorIndex
from micview.core.store import ImageRow, Project
from micview.ml.embedder import Embedder
from micview.ml.errors import ModelError
from micview.ml.registry import DEFAULT_MODEL, get_spec, load_embedder


def load_index(
    project: Project,
    model_id: str,
    *,
    dtype: str = "float32",
    approximate: bool | None = None,
    reuse: bool = True,
) -> VectorIndex:
    """Every embedded 'ok' image of the project for ``model_id``; an error telling how to embed when none.

    ``approximate`` (default: from :data:`micview.ml.ann.APPROXIMATE_FROM` rows on) attaches the quantized
    candidate index, kept as a cache file beside the project; results are re-ranked exactly either way.
    ``reuse`` keeps the last index in memory and brings it up to date with :func:`refresh_index` on the next
    call (reading only new vectors), so repeated searches in a large project do not re-read every vector.
    The returned index may be shared with later callers: treat it as read-only.
    """
    key = (str(project.path.resolve()), model_id, dtype, approximate)
    with _REUSE_LOCK:
        index = _REUSED.get(key) if reuse else None
        if index is not None:
            refresh_index(project, model_id, index)
        else:
            hashes = _current_hashes(project, model_id)
            ids, matrix = project.embeddings.for_images(model_id)
            index = VectorIndex(ids, matrix, dtype=dtype)
            _HASHES[index] = hashes  # so that a later refresh sees files that changed since
        if len(index) == 0:
            raise ModelError(
                f"No images of this project are embedded with {model_id} yet; run "
                f"`micview embed {project.path} --model {model_id}` first."
            )
        if index.approximate is None:
            _maybe_approximate(project, model_id, index, approximate)
        if reuse:
            _REUSED.clear()  # one index at a time: at 1M × 512 it is 2.5 GB
            _REUSED[key] = index
    return index


_REUSE_LOCK = threading.Lock()
_REUSED: dict[tuple[str, str, str, bool | None], VectorIndex] = {}


def _maybe_approximate(project: Project, model_id: str, index: VectorIndex, approximate: bool | None) -> None:
    from micview.ml import ann

    if approximate or (approximate is None and len(index) >= ann.APPROXIMATE_FROM):
        ann.attach(index, model_id, ann.sidecar_path(project.path, model_id))


def refresh_index(project: Project, model_id: str, index: VectorIndex) -> tuple[int, int]:
    """Bring ``index`` up to date with the project incrementally: (rows added, rows removed).

    Only the vectors of images new to the index are read. An image whose file changed since the previous
    refresh has a new content hash, so its row is replaced; the approximate index follows the changes
    through :class:`VectorIndex`.
    """
    current = _current_hashes(project, model_id)
    known = _HASHES.get(index, {})
    gone = [i for i in index.ids.tolist() if i not in current or known.get(i, current[i]) != current[i]]
    index.remove(np.asarray(gone, np.int64))
    new = [i for i in current if i not in index]
    if new:
        index.add(*_vectors_of(project, model_id, new, [current[i] for i in new]))
    _HASHES[index] = current
    return len(new), len(gone)


def _current_hashes(project: Project, model_id: str) -> dict[int, str]:
    """Image id → content hash of every 'ok' image that has a ``model_id`` vector."""
    sql = (
        "SELECT i.id, i.content_hash FROM images i JOIN embeddings e "
        "ON e.content_hash = i.content_hash AND e.model_id = ? WHERE i.status = 'ok'"
    )
    return dict(project.con.execute(sql, (model_id,)).fetchall())


_HASHES: weakref.WeakKeyDictionary[VectorIndex, dict[int, str]] = weakref.WeakKeyDictionary()
_STORED: dict[str, np.dtype[Any]] = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}


def _vectors_of(project: Project, model_id: str, ids: list[int], hashes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Float32 vectors of ``ids`` (by their content hashes), read in chunks of SQL parameters."""
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for s in range(0, len(unique), 500):
        chunk = unique[s : s + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT content_hash, dtype, vector FROM embeddings WHERE model_id = ? AND content_hash IN ({marks})"
        for h, dtype, blob in project.con.execute(sql, (model_id, *chunk)):
            found[h] = np.frombuffer(blob, _STORED[dtype]).astype(np.float32)
    return np.asarray(ids, np.int64), np.stack([found[h] for h in hashes])


def search_text(
    project: Project,
    text: str,
    model_id: str = DEFAULT_MODEL,
    k: int = 10,
    *,
    allowed: Collection[int] | np.ndarray | None = None,
    embedder: Embedder | None = None,
    index: VectorIndex | None = None,
) -> Hits:
    """The ``k`` images best matching ``text``; ``allowed`` restricts to a set of image ids (filters)."""
    if embedder is None and not get_spec(model_id).has_text:
        raise ModelError(
            f"{model_id} is image-only, so it cannot search by text. Add a CLIP or SigLIP model with "
            "`micview models add PATH` (or `micview models pull ID` when online), embed with it, "
            "and pass --model ID."
        )
    index = index or load_index(project, model_id)
    model = embedder or load_embedder(model_id)
    return index.search(model.encode_text([text])[0], k, allowed=allowed)


def find_image(project: Project, name: str) -> ImageRow | None:
    """The project image named by a path (absolute, relative or as stored) or a unique file name."""
    row = project.images.by_path(Path(name))
    if row is not None:
        return row
    matches = [r for r in project.images.all() if r.path == name or r.name == name]
    if len(matches) > 1:
        raise ModelError(f"Several images are named {name}; give the path relative to the project instead.")
    return matches[0] if matches else None


def similar_images(
    project: Project,
    image: str | int,
    model_id: str = DEFAULT_MODEL,
    k: int = 10,
    *,
    allowed: Collection[int] | np.ndarray | None = None,
    embedder: Embedder | None = None,
    index: VectorIndex | None = None,
) -> Hits:
    """Images most similar to ``image`` (an image id, a project path or file name, or any image file).

    A project image uses its stored vector and is left out of its own results (identical copies stay in);
    a file outside the project is embedded on the fly.
    """
    index = index or load_index(project, model_id)
    row = project.images.get(image) if isinstance(image, int) else find_image(project, image)
    if row is not None and row.id in index:
        return index.search(index.vector(row.id), k, allowed=allowed, exclude=[row.id])
    path = project.resolve(row.path) if row is not None else Path(str(image))
    if not path.is_file():
        raise ModelError(f"{image}: not an image of this project, nor an image file.")
    return index.search(embed_file(path, embedder or load_embedder(model_id)), k, allowed=allowed)


def embed_file(path: Path, embedder: Embedder) -> np.ndarray:
    """One image file's vector, preprocessed exactly as in :func:`micview.ml.embedding.embed_project`."""
    from micview.ml.preprocess import batch_inputs, load_model_input

    vector: np.ndarray = embedder.encode_pixels(batch_inputs(embedder, [load_model_input(embedder, path)]))[0]
    return vector
