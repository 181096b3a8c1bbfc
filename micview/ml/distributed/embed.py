"""Embedding on a Dask cluster: batches of image paths go out, vectors come back, the client commits them.

The same decoding (:func:`micview.ml.preprocess.load_model_input`) and the same model code as in-process, so the
vectors match (tests/ml/test_distributed.py checks cosine ≥ 0.999 and the same neighbours). Each worker
process loads the model once and keeps it. At most ``2 × workers + 1`` batches are in flight, so memory on
the client stays bounded for any project size.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.store import ImageRow, Project
from micview.core.tasks import Progress, Task
from micview.ml.embedding import EmbedSummary, todo_rows

_LOADED: dict[tuple[str, str | None, str | None], Any] = {}  # per worker process: the loaded model


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a worker sends back for one batch: vectors of the rows that decoded, reasons for the others."""

    ok: list[int]  # positions in the batch
    vectors: np.ndarray  # (len(ok), d) float32, unit length
    failed: list[tuple[int, str]]
    model: dict[str, Any]  # id, weights hash, preprocess, device, precision: for the run's recipe


def embed_batch(
    model_id: str, device: str | None, precision: str | None, items: list[tuple[str, int | None, int | None]]
) -> BatchResult:
    """Runs on a worker: decode ``items`` (path, width, height) and embed them with the worker's model."""
    from micview.ml.preprocess import batch_inputs, load_model_input
    from micview.ml.registry import load_embedder

    key = (model_id, device, precision)
    if key not in _LOADED:
        _LOADED[key] = load_embedder(model_id, device=device, precision=precision)
    model = _LOADED[key]
    pixels, ok, failed = [], [], []
    for i, (path, width, height) in enumerate(items):
        try:
            pixels.append(load_model_input(model, Path(path), width, height))
            ok.append(i)
        except Exception as exc:  # a bad file is reported, not fatal
            failed.append((i, str(exc)))
    vectors = model.encode_pixels(batch_inputs(model, pixels)) if pixels else np.zeros((0, 0), np.float32)
    meta = {
        "id": model.id, "weights_hash": model.weights_hash, "preprocess": model.preprocess.as_params(),
        "family": model.spec.family, "device": model.device, "precision": model.precision,
    }  # fmt: skip
    return BatchResult(ok, vectors, failed, meta)


def embed_project_dask(
    project: Project,
    client: Any,
    model_id: str,
    *,
    device: str | None = None,
    precision: str | None = None,
    batch_size: int = 32,
    store_dtype: str = "float16",
) -> Task[EmbedSummary]:
    """Embed every image of ``project`` without a ``model_id`` vector on the cluster of ``client``.

    Images are read by the workers from the paths the project resolves to on the client (shared storage).
    Each batch is committed by the client as it arrives; a cancel cancels the batches still out.
    """
    from distributed import as_completed

    from micview.ml.distributed.cluster import worker_count

    summary = EmbedSummary(model_id, batch_size=batch_size)
    yield Progress(0, 0, "Finding images to embed")
    rows, summary.already = todo_rows(project, model_id)
    if not rows:
        return summary
    batches = [rows[s : s + batch_size] for s in range(0, len(rows), batch_size)]
    pending = iter(enumerate(batches))
    window = 2 * worker_count(client) + 1
    by_future: dict[Any, list[ImageRow]] = {}
    # Keys unique to this run: a scheduler keeps a cancelled key for a while (a re-run would get the cancelled
    # future back), and another client on a shared scheduler must never receive this run's batches.
    run_token = uuid.uuid4().hex[:12]

    def submit() -> Any:
        b, batch = next(pending, (None, None))
        if batch is None:
            return None
        items = [(str(project.resolve(r.path)), r.width, r.height) for r in batch]
        future = client.submit(
            embed_batch, model_id, device, precision, items, pure=False, key=f"micview-embed-{run_token}-{b}"
        )
        by_future[future] = batch
        return future

    yield Progress(0, len(rows), f"Embedding on {worker_count(client)} Dask workers")
    futures = as_completed([f for f in (submit() for _ in range(window)) if f is not None])
    start, done = time.perf_counter(), 0
    try:
        for future in futures:
            batch = by_future.pop(future)
            _commit(project, batch, future.result(), summary, store_dtype)
            done += len(batch)
            if (nxt := submit()) is not None:
                futures.add(nxt)
            yield Progress(done, len(rows), batch[-1].name)
    except GeneratorExit:
        client.cancel(list(by_future))
        if summary.run_id is not None:
            project.runs.set_status(summary.run_id, "cancelled")
        raise
    summary.seconds = time.perf_counter() - start
    if summary.run_id is not None:
        project.runs.set_status(summary.run_id, "done")
    return summary


def _commit(project: Project, batch: list[ImageRow], result: BatchResult, summary: EmbedSummary, dtype: str) -> None:
    if summary.run_id is None:
        summary.device, summary.precision = result.model["device"], result.model["precision"]
        summary.run_id = _record_run(project, result.model, summary, dtype)
    summary.failed.extend((batch[i].path, reason) for i, reason in result.failed)
    if result.ok:
        hashes = [batch[i].content_hash or "" for i in result.ok]
        project.embeddings.put(summary.model_id, hashes, result.vectors, run_id=summary.run_id, dtype=dtype)
        summary.embedded += len(result.ok)


def _record_run(project: Project, model: dict[str, Any], summary: EmbedSummary, store_dtype: str) -> int:
    params = {
        "preprocess": model["preprocess"], "decode": "micview.core.imaging.read_display",
        "family": model["family"], "device": model["device"], "precision": model["precision"],
        "batch_size": summary.batch_size, "store_dtype": store_dtype, "executor": "dask",
    }  # fmt: skip
    return project.runs.record(
        "embedding", f"embeddings:{model['id']}", "embed_images", params,
        model_id=model["id"], weights_hash=model["weights_hash"], status="running",
    )  # fmt: skip
