"""Downloading a model repository from the Hugging Face hub as a task: progress in MB, cancel, sha256 check.

Why a task rather than one ``snapshot_download`` call: a 600 MB download takes minutes, so the CLI shows a bar
and the GUI a job with Cancel. Every network call runs on a helper thread while the task polls it and yields
progress, so a cancel returns at once even when a firewall swallows the connection (the helper ends on its own
at its timeout; a file cancelled half way is resumed next time).

Every file is checked after download against what the hub publishes for it: the sha256 of large (LFS) files,
the git blob id of small ones. A file that does not match is deleted and the task fails, so a corrupted
download is never registered as a model.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from micview.core.errors import Cancelled
from micview.core.tasks import Progress, Task
from micview.ml.errors import ModelError
from micview.ml.hub import ALLOW, offline

WEIGHTS = (".safetensors", ".bin", ".pth", ".pt")
TIMEOUT_S = 20.0  # per network call; the task itself can be cancelled at any time
POLL_S = 0.2
MB = 1 << 20
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One file of a hub repository: its size, and the checksum the hub publishes for it."""

    name: str
    size: int
    sha256: str | None  # large (LFS) files
    blob_id: str | None  # git blob sha1: small files


def choose(files: list[RemoteFile], patterns: list[str] = ALLOW) -> list[RemoteFile]:
    """The files the loaders need; a repository without safetensors weights gets its ``.bin`` (BiomedCLIP)."""
    chosen = [f for f in files if any(fnmatch.fnmatch(f.name, p) for p in patterns)]
    if not any(f.name.endswith(WEIGHTS) for f in chosen):
        chosen += [f for f in files if f.name.endswith(".bin")]
    return chosen


def download_task(repo_id: str, *, local_dir: Path | None = None, endpoint: str | None = None) -> Task[Path]:
    """Fetch ``repo_id``'s model files into the HF cache (or ``local_dir``), check them, return the folder.

    Progress is in MB. Raises :class:`ModelError` offline, on a network failure and on a checksum mismatch.
    """
    if offline():
        raise ModelError(f"Cannot download {repo_id}: offline mode is on (HF_HUB_OFFLINE).")
    try:
        files = yield from _threaded(lambda _m: _remote_files(repo_id, endpoint), _asking(repo_id))
    except Exception as exc:
        raise _network_error(repo_id, exc) from exc
    chosen = choose(files)
    if not chosen:
        raise ModelError(f"Cannot download {repo_id}: the repository has no model files micview can load.")
    total = max(1, sum(f.size for f in chosen) // MB)
    done = 0
    folder: Path | None = None
    for f in chosen:
        path = yield from _fetch(repo_id, f, local_dir, endpoint, done, total)
        yield from _verify(repo_id, f, path, done, total)
        done += f.size
        folder = folder or _root(path, f.name)
    assert folder is not None
    return folder


def _asking(repo_id: str) -> Callable[[int], Progress]:
    return lambda _bytes: Progress(0, 0, f"Asking huggingface.co for the files of {repo_id}")


def _network_error(repo_id: str, exc: Exception) -> ModelError:
    if isinstance(exc, ModelError):
        return exc
    return ModelError(f"Cannot download {repo_id}: {type(exc).__name__}: {exc}. Check the internet connection.")


def _remote_files(repo_id: str, endpoint: str | None) -> list[RemoteFile]:
    from huggingface_hub import HfApi

    info = HfApi(endpoint=endpoint).model_info(repo_id, files_metadata=True, timeout=TIMEOUT_S)
    return [
        RemoteFile(s.rfilename, int(s.size or 0), s.lfs.sha256 if s.lfs else None, s.blob_id)
        for s in info.siblings or []
    ]


def _root(path: Path, name: str) -> Path:
    """The folder holding the repository: ``path`` minus the file's own sub-folders."""
    for _ in name.split("/"):
        path = path.parent
    return path


def _fetch(repo_id: str, f: RemoteFile, local_dir: Path | None, endpoint: str | None, done: int,
           total: int) -> Task[Path]:  # fmt: skip
    from huggingface_hub import hf_hub_download

    started = time.monotonic()

    def work(meter: _Meter) -> Path:
        return Path(hf_hub_download(repo_id, f.name, local_dir=local_dir, endpoint=endpoint,
                                    etag_timeout=TIMEOUT_S, tqdm_class=meter.bar_class()))  # fmt: skip

    def progress(got: int) -> Progress:
        rate = got / MB / max(1e-3, time.monotonic() - started)
        speed = f" · {rate:.1f} MB/s" if got >= MB else ""
        return Progress((done + got) // MB, total, f"{f.name}: {got // MB} of {max(1, f.size // MB)} MB{speed}")

    try:
        return (yield from _threaded(work, progress))
    except (Cancelled, GeneratorExit):
        raise
    except Exception as exc:
        raise _network_error(repo_id, exc) from exc


def _verify(repo_id: str, f: RemoteFile, path: Path, done: int, total: int) -> Task[None]:
    """Compare ``path`` with the hub's sha256 (LFS) or git blob id; delete it and fail when they differ."""
    expected = f.sha256 or f.blob_id
    if not expected:
        return
    h = hashlib.sha256() if f.sha256 else hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    got = 0
    with path.open("rb") as stream:
        while chunk := stream.read(4 * MB):
            h.update(chunk)
            got += len(chunk)
            if f.size > 16 * MB:
                yield Progress((done + got) // MB, total, f"Checking the sha256 of {f.name}")
    if h.hexdigest() != expected:
        kind = "sha256" if f.sha256 else "git blob id"
        for p in {path.resolve(), path}:
            p.unlink(missing_ok=True)
        raise ModelError(
            f"{f.name} of {repo_id} does not match the {kind} the hub publishes for it (expected {expected}, "
            f"got {h.hexdigest()}): the download was damaged. The file was deleted; download again."
        )


class _Meter:
    """Bytes received so far, counted by a tqdm class handed to huggingface_hub; cancelling makes it raise."""

    def __init__(self) -> None:
        self.bytes = 0
        self.cancelled = threading.Event()

    def add(self, n: int) -> None:
        if self.cancelled.is_set():
            raise Cancelled("Download cancelled.")
        self.bytes += n

    def bar_class(self) -> type[Any]:
        from tqdm import tqdm

        meter = self

        class _Bar(tqdm):  # type: ignore[misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs["disable"] = True
                kwargs.pop("name", None)
                super().__init__(*args, **kwargs)
                meter.add(int(kwargs.get("initial") or 0))

            def update(self, n: float | None = 1) -> bool | None:
                meter.add(int(n or 0))
                return None

        return _Bar


def _threaded(work: Callable[[_Meter], T], progress: Callable[[int], Progress]) -> Task[T]:
    """Run ``work`` on a daemon thread, yielding ``progress(bytes)`` until it ends; closing the task cancels it."""
    meter = _Meter()
    value: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            value.append(work(meter))
        except BaseException as exc:  # handed to the task's thread below
            error.append(exc)

    thread = threading.Thread(target=run, name="micview-download", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(POLL_S)
            yield progress(meter.bytes)
    finally:
        if thread.is_alive():
            meter.cancelled.set()
    if error:
        raise error[0]
    return value[0]
