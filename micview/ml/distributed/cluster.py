"""Connecting to a cluster: ``local:N`` starts a LocalCluster of N worker processes, anything else is the
address of a running scheduler (``tcp://host:8786``; a dask-jobqueue SLURM/PBS cluster prints one)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from micview.core.errors import MicviewError

CONNECT_TIMEOUT_S = 20


class ClusterError(MicviewError):
    """The Dask cluster cannot be started or reached."""


def parse_local(spec: str) -> int | None:
    """``local:N`` → N (≥ 1); ``local`` → one worker per core; an address → ``None``."""
    if spec == "local":
        return max(1, os.cpu_count() or 1)
    if not spec.startswith("local:"):
        return None
    try:
        n = int(spec.removeprefix("local:"))
    except ValueError:
        n = 0
    if n < 1:
        raise ClusterError(f"--dask {spec}: write local:N with N a number of workers ≥ 1 (e.g. local:2).")
    return n


@contextmanager
def open_client(spec: str) -> Iterator[Any]:
    """A ``distributed.Client`` for ``spec``, closed (and a local cluster stopped) on exit."""
    from distributed import Client, LocalCluster

    n = parse_local(spec)
    cluster = None
    try:
        if n is not None:
            # one task per worker process; each worker's torch gets its share of the cores
            threads = max(1, (os.cpu_count() or 1) // n)
            cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR,
                env={"OMP_NUM_THREADS": str(threads)},
            )  # fmt: skip
            client = Client(cluster, timeout=CONNECT_TIMEOUT_S)
        else:
            client = Client(spec, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterError(f"Cannot reach the Dask scheduler at {spec} ({exc}).") from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def worker_count(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))
