"""Embedding every image of a project with one model: batched, resumable, cancellable.

Vectors are keyed by (model id, image content hash): a copied or moved file is embedded once, and a re-run
embeds only what is missing. Each batch is written in its own transaction *before* progress is yielded, so a
cancel, a crash or a kill loses at most the batch in flight. Decoding runs in threads ahead of the model
(:mod:`micview.ml.prefetch`); a batch that runs out of memory is split in halves and the batch size halved.
A model with a ``load_pixels(path, width, height)`` method reads each image itself instead of the square crop
(:mod:`micview.ml.whole_image`: whole images at their own size), and its ``encode_pixels`` gets a list.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from micview.core.store import ImageRow, Project
from micview.core.tasks import Progress, Task
from micview.ml.embedder import Embedder
from micview.ml.errors import ModelError
from micview.ml.prefetch import Outcome, batched, prefetch
from micview.ml.registry import DEFAULT_MODEL, load_embedder

CPU_BATCH = 32
GPU_BATCH = 64


@dataclass
class EmbedSummary:
    """What an embedding run did (for the CLI report and the GUI notification)."""

    model_id: str
    embedded: int = 0
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (stored path, reason)
    run_id: int | None = None
    device: str = ""
    precision: str = ""
    batch_size: int = 0
    seconds: float = 0.0

    @property
    def images_per_s(self) -> float:
        return self.embedded / self.seconds if self.seconds else 0.0


def todo_rows(project: Project, model_id: str) -> tuple[list[ImageRow], int]:
    """One readable image per content hash that has no vector yet, and how many hashes already have one."""
    unique: dict[str, ImageRow] = {}
    for row in project.images.all(status="ok"):
        if row.content_hash:
            unique.setdefault(row.content_hash, row)
    missing = set(project.embeddings.missing(model_id, list(unique)))
    return [r for h, r in unique.items() if h in missing], len(unique) - len(missing)


def default_workers() -> int:
    """Decode threads: one per core but one (the model's threads need the cores too), 1 to 6.

    Measured on 2 cores: 1 decode thread beat 2 (0.73 vs 0.68 of the pure forward's speed); more threads
    only oversubscribe the cores the model is already using.
    """
    return max(1, min(6, (os.cpu_count() or 2) - 1))


def embed_project(
    project: Project,
    model_id: str = DEFAULT_MODEL,
    device: str | None = None,
    batch_size: int | None = None,
    *,
    precision: str | None = None,
    workers: int | None = None,
    store_dtype: str = "float16",
    embedder: Embedder | None = None,
) -> Task[EmbedSummary]:
    """Embed every image of ``project`` that has no ``model_id`` vector yet (a generator task).

    Parameters
    ----------
    device, precision
        ``None`` picks CUDA in bf16/fp16 when present, else CPU in bf16 where it is native, else fp32.
    batch_size
        Images per forward pass (default 32 on CPU, 64 on GPU); halved automatically on out-of-memory.
    store_dtype
        'float16' (default: half the size, cosine error ~1e-3) or 'float32'.
    embedder
        An already loaded model (the GUI keeps one); otherwise it is loaded here, only if work remains.
    """
    summary = EmbedSummary(model_id)
    yield Progress(0, 0, "Finding images to embed")
    rows, summary.already = todo_rows(project, model_id)
    if not rows:
        return summary
    yield Progress(0, len(rows), f"Loading {model_id}")
    model = embedder or load_embedder(model_id, device=device, precision=precision)
    summary.device, summary.precision = model.device, model.precision
    summary.batch_size = batch_size or (GPU_BATCH if model.device != "cpu" else CPU_BATCH)
    summary.run_id = _record_run(project, model, summary, store_dtype)
    start = time.perf_counter()
    try:
        yield from _run(project, model, rows, summary, default_workers() if workers is None else workers, store_dtype)
    except GeneratorExit:
        project.runs.set_status(summary.run_id, "cancelled")
        raise
    summary.seconds = time.perf_counter() - start
    project.runs.set_status(summary.run_id, "done")
    return summary


def _record_run(project: Project, model: Embedder, summary: EmbedSummary, store_dtype: str) -> int:
    params: dict[str, Any] = {
        "preprocess": model.preprocess.as_params(),
        "decode": "micview.core.imaging.read_display",
        "family": model.spec.family,
        "device": model.device,
        "precision": model.precision,
        "batch_size": summary.batch_size,
        "store_dtype": store_dtype,
    }
    return project.runs.record(
        "embedding",
        f"embeddings:{model.id}",
        "embed_images",
        params,
        model_id=model.id,
        weights_hash=model.weights_hash,
        status="running",
    )


def _run(
    project: Project,
    model: Embedder,
    rows: list[ImageRow],
    summary: EmbedSummary,
    workers: int,
    store_dtype: str,
) -> Task[None]:
    """Decode threads → assembler thread (stack + normalise into the model's tensor) → forward here → commit.

    The assembler prepares batch i + 1 while the model runs batch i (torch releases the GIL), so the model
    never waits for the uint8 → float conversion. The first batch is small (:data:`FIRST_BATCH`) so the model
    starts after a few decodes instead of a whole batch of them.
    """
    from micview.ml.preprocess import load_model_input

    def load(row: ImageRow) -> np.ndarray:
        return load_model_input(model, project.resolve(row.path), row.width, row.height)

    window = 2 * summary.batch_size + workers
    done = 0
    with (
        closing(prefetch(rows, load, workers=workers, window=window)) as outcomes,
        ThreadPoolExecutor(1, thread_name_prefix="micview-assemble") as assembler,
    ):
        batches = _ramped(outcomes, summary)
        ahead = assembler.submit(_assemble, model, next(batches, None))
        try:
            while (ready := ahead.result()) is not None:
                ahead = assembler.submit(_assemble, model, next(batches, None))
                _embed_batch(project, model, ready, summary, store_dtype)
                done += len(ready.batch)
                yield Progress(done, len(rows), Path(ready.batch[-1].item.path).name)
        finally:
            ahead.cancel()
            wait([ahead])  # the assembler may be inside the decode iterator: let it leave before closing it


FIRST_BATCH = 8


def _ramped(outcomes: Iterator[Outcome[ImageRow, np.ndarray]], summary: EmbedSummary) -> Iterator[list[Any]]:
    """Batches: a small first one to start the model early, then ``summary.batch_size`` (re-read each time)."""
    first = True

    def size() -> int:
        return min(FIRST_BATCH, summary.batch_size) if first else summary.batch_size

    for batch in batched(outcomes, size):
        first = False
        yield batch


@dataclass
class _Ready:
    batch: list[Outcome[ImageRow, np.ndarray]]
    ok: list[Outcome[ImageRow, np.ndarray]]
    pixels: np.ndarray | None
    tensor: Any


def _assemble(model: Embedder, batch: list[Outcome[ImageRow, np.ndarray]] | None) -> _Ready | None:
    """Runs in the assembler thread: the batch's good images as uint8 pixels and as the model's input."""
    if batch is None:
        return None
    ok = [o for o in batch if o.error is None]
    if not ok:
        return _Ready(batch, ok, None, None)
    from micview.ml.preprocess import batch_inputs

    # a stacked batch, or a list where the model reads whole images (their sizes differ)
    pixels = batch_inputs(model, [o.value for o in ok if o.value is not None])
    if not _plain(model):  # feature variants and MARCO have their own encode_pixels: call it as it is
        return _Ready(batch, ok, pixels, None)
    return _Ready(batch, ok, pixels, model._to_input(pixels))  # the same conversion encode_pixels does, ahead


def _plain(model: Embedder) -> bool:
    return isinstance(model, Embedder) and type(model).encode_pixels is Embedder.encode_pixels


def _embed_batch(project: Project, model: Embedder, ready: _Ready, summary: EmbedSummary, dtype: str) -> None:
    """Encode and store one batch in one transaction (committed before the caller yields progress)."""
    for o in ready.batch:
        if o.error is not None:
            summary.failed.append((o.item.path, str(o.error)))
    if ready.pixels is None:
        return
    vectors = _forward(model, ready, summary)
    hashes = [o.item.content_hash or "" for o in ready.ok]
    project.embeddings.put(model.id, hashes, vectors, run_id=summary.run_id, dtype=dtype)
    summary.embedded += len(ready.ok)


def _forward(model: Embedder, ready: _Ready, summary: EmbedSummary) -> np.ndarray:
    """The prepared tensor through the model; on out-of-memory, the halving path from the pixels."""
    from micview.ml.device import is_out_of_memory
    from micview.ml.embedder import l2_normalise

    if ready.tensor is None:
        return encode_adaptive(model, ready.pixels, summary)  # type: ignore[arg-type]
    try:
        out = model.encode_tensor(ready.tensor)
    except (RuntimeError, MemoryError) as exc:
        if not (isinstance(exc, MemoryError) or is_out_of_memory(exc)):
            raise
        ready.tensor = None
        _free_cache(model.device)
        return encode_adaptive(model, ready.pixels, summary)  # type: ignore[arg-type]
    return l2_normalise(out.float().cpu().numpy())


def encode_adaptive(model: Embedder, pixels: np.ndarray, summary: EmbedSummary) -> np.ndarray:
    """Encode ``pixels``; on out-of-memory halve ``summary.batch_size`` and encode in halves (recursively)."""
    from micview.ml.device import is_out_of_memory

    try:
        return model.encode_pixels(pixels)
    except (RuntimeError, MemoryError) as exc:
        if not (isinstance(exc, MemoryError) or is_out_of_memory(exc)):
            raise
        if len(pixels) == 1:
            raise ModelError(
                f"Not enough memory to embed even one image with {model.id} on {model.device}; "
                "try --device cpu or a smaller model."
            ) from exc
    _free_cache(model.device)
    half = len(pixels) // 2
    summary.batch_size = max(1, min(summary.batch_size, half))
    return np.concatenate(
        [encode_adaptive(model, pixels[:half], summary), encode_adaptive(model, pixels[half:], summary)]
    )


def _free_cache(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
