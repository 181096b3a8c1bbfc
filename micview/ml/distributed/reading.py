"""Importing on a Dask cluster: workers read files (hash, metadata, thumbnail), the client stores them.

:func:`dask_reader` returns a drop-in for the importer's own reader: ``add_folder(..., reader=dask_reader(c))``
keeps everything else — planning, moved files, duplicates, batched commits — on the client, unchanged.
Workers call the importer's own :func:`micview.core.importer.read_file` (which never raises) on paths they
see on shared storage; results come back in batches of ``batch`` files, at most ``2 × workers + 1`` batches
out at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BATCH_FILES = 16


def read_batch(paths: list[str], thumb_size: int) -> list[tuple[str, dict[str, Any], Any]]:
    """Runs on a worker: read every file of the batch; failures come back as 'error' rows, never raise."""
    from micview.core.importer import read_file

    return [(p, *read_file(p, thumb_size)) for p in paths]


def dask_reader(client: Any, batch: int = BATCH_FILES) -> Callable[..., Iterator[tuple[Path, dict[str, Any], Any]]]:
    """A reader for :func:`micview.core.importer.add_folder` that runs on ``client``'s cluster."""
    from distributed import as_completed

    from micview.ml.distributed.cluster import worker_count

    def read_many(files: list[Any], workers: int, thumb_size: int, timeout: float) -> Iterator[Any]:
        chunks = iter([[str(f.path) for f in files[s : s + batch]] for s in range(0, len(files), batch)])
        out: list[Any] = []

        def submit() -> Any:
            chunk = next(chunks, None)
            if chunk is None:
                return None
            future = client.submit(read_batch, chunk, thumb_size, pure=False)
            out.append(future)
            return future

        window = 2 * worker_count(client) + 1
        futures = as_completed([f for f in (submit() for _ in range(window)) if f is not None])
        try:
            for future in futures:
                for path, values, thumb in future.result():
                    yield Path(path), values, thumb
                out.remove(future)
                if (nxt := submit()) is not None:
                    futures.add(nxt)
        finally:  # cancelled or done: nothing left running for this import
            client.cancel(out)

    return read_many
