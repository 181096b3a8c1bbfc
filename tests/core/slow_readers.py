"""Reader functions for the worker-pool tests; module-level so spawned workers can import them by name."""

from __future__ import annotations

import os


def read_bytes(path: str) -> int:
    """Open and read the whole file: blocks forever on a FIFO nobody writes to, like a stalled share."""
    with open(path, "rb") as f:
        return len(f.read())


def read_or_crash(path: str) -> int:
    """Ends the worker process abruptly on a file named ``crash*``, as a segfault in a decoder would."""
    if os.path.basename(path).startswith("crash"):
        os._exit(7)
    return read_bytes(path)


def exit_at_start() -> None:
    """An initializer that fails, as a worker would on a broken installation."""
    os._exit(3)
