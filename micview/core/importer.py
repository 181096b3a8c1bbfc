"""Adding folders of images to a project, and re-scanning them for new, changed and missing files.

Files are read (hash, header, metadata, thumbnail) in worker processes, because decoding is CPU-bound and
holds the GIL; the main process only writes to the project, in batches, each in one transaction. A cancel, a
crash or a kill therefore loses at most the batch in flight, and running the same import again reads only what
is not in the project yet (unchanged files are recognised by path, size and modification time).
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micview.core.errors import ImageReadError, MicviewError
from micview.core.store import Project, Thumbnail
from micview.core.tasks import Progress, Task

THUMBNAIL_SIZE = 256
_BATCH = 32
_SERIAL_BELOW = 8  # starting worker processes costs more than it saves for a handful of files


@dataclass
class ImportSummary:
    """What an import or re-scan did, for the CLI's report and the GUI's notification."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (stored path, reason)
    missing: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (new path, path with same content)
    skipped_duplicates: int = 0

    @property
    def read(self) -> int:
        return self.added + self.updated


def supported_extensions() -> frozenset[str]:
    from micview.core.imaging import SUPPORTED_EXTENSIONS

    return SUPPORTED_EXTENSIONS


def scan_folder(folder: Path, *, recursive: bool = True, extensions: Iterable[str] | None = None) -> list[Path]:
    """Image files under ``folder`` (hidden files and folders skipped), sorted for a stable import order."""
    exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in (extensions or supported_extensions())}
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recursive else []
        found.extend(Path(dirpath) / f for f in filenames if not f.startswith(".") and Path(f).suffix.lower() in exts)
    return sorted(found)


def file_hash(path: Path) -> str:
    """blake2b-128 of the bytes: fast, and collisions are not a practical concern for identifying files."""
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def encode_thumbnail(pixels: Any) -> Thumbnail:
    """JPEG-encode a uint8 thumbnail array: small in the project, and fast for Qt to decode."""
    from PIL import Image

    img = Image.fromarray(pixels)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return Thumbnail(img.width, img.height, "jpeg", buf.getvalue())


def read_file(path: str, thumb_size: int = THUMBNAIL_SIZE) -> tuple[dict[str, Any], Thumbnail | None]:
    """Everything the project stores about one file. Runs in a worker process; never raises."""
    import json

    from micview.core.imaging import read_summary

    p = Path(path)
    values: dict[str, Any] = {}
    try:
        st = p.stat()
        values.update(size_bytes=st.st_size, mtime=st.st_mtime, content_hash=file_hash(p))
        summary = read_summary(p, thumb_size)
    except ImageReadError as exc:
        return {**values, "status": "error", "error": str(exc)}, None
    except OSError as exc:
        return {**values, "status": "error", "error": f"{p.name}: cannot read the file ({exc.strerror or exc})"}, None
    except Exception as exc:  # a reader bug must not stop an import of thousands of files
        return {**values, "status": "error", "error": f"{p.name}: unexpected error while reading ({exc!r})"}, None
    info = summary.info
    values.update(
        status="ok", error=None, format=info.format, width=info.width, height=info.height, frames=info.frames,
        channels=info.channels, dtype=info.dtype, bit_depth=info.bit_depth, mode=info.mode,
        metadata_json=json.dumps(info.raw_metadata, default=str) if info.raw_metadata else None,
        **info.instrument.as_dict(),
    )  # fmt: skip
    return values, encode_thumbnail(summary.thumbnail)


def _read_many(paths: list[Path], workers: int, thumb_size: int) -> Iterator[tuple[Path, dict[str, Any], Any]]:
    """Yield (path, values, thumbnail) as files finish reading, in worker processes when worth it."""
    if workers <= 1 or len(paths) < _SERIAL_BELOW:
        for p in paths:
            yield (p, *read_file(str(p), thumb_size))
        return
    # spawn, not fork: forking a process that runs Qt or torch threads is unsafe.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    pending: dict[Future[tuple[dict[str, Any], Thumbnail | None]], Path] = {}
    todo = iter(paths)
    try:
        while True:
            while len(pending) < workers * 4 and (nxt := next(todo, None)) is not None:
                pending[pool.submit(read_file, str(nxt), thumb_size)] = nxt
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield (pending.pop(fut), *fut.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _plan(project: Project, files: list[Path]) -> tuple[list[Path], list[int], int]:
    """Split files into (to read, known ids that reappeared, unchanged count) by path, size and mtime."""
    known = {
        r[0]: (r[1], r[2], r[3], r[4])
        for r in project.con.execute("SELECT path, id, size_bytes, mtime, status FROM images")
    }
    to_read, reappeared, unchanged = [], [], 0
    for f in files:
        rec = known.get(project.to_stored(f))
        if rec is None:
            to_read.append(f)
            continue
        st = f.stat()
        if rec[1] == st.st_size and rec[2] == st.st_mtime:
            unchanged += 1
            if rec[3] == "missing":
                reappeared.append(rec[0])
        else:
            to_read.append(f)
    return to_read, reappeared, unchanged


def _mark_missing(project: Project, folder: Path, present: set[str], recursive: bool) -> list[str]:
    prefix = project.to_stored(folder).rstrip("/") + "/"
    gone = []
    for image_id, stored in project.con.execute("SELECT id, path FROM images WHERE status != 'missing'"):
        inside = stored.startswith(prefix) and (recursive or "/" not in stored[len(prefix) :])
        if inside and stored not in present and not project.resolve(stored).exists():
            gone.append((image_id, stored))
    project.images.set_status([g[0] for g in gone], "missing")
    return [g[1] for g in gone]


def add_folder(
    project: Project,
    folder: str | Path,
    *,
    recursive: bool = True,
    extensions: Iterable[str] | None = None,
    workers: int | None = None,
    thumb_size: int = THUMBNAIL_SIZE,
    skip_duplicates: bool = False,
) -> Task[ImportSummary]:
    """Import (or re-scan) ``folder``: new and changed files are read, vanished ones marked 'missing'.

    A generator task (see :mod:`micview.core.tasks`): yields progress, returns an :class:`ImportSummary`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MicviewError(f"{folder}: no such folder.")
    exts = sorted(extensions) if extensions else None
    yield Progress(0, 0, f"Scanning {folder}")
    files = scan_folder(folder, recursive=recursive, extensions=exts)
    to_read, reappeared, unchanged = _plan(project, files)
    summary = ImportSummary(unchanged=unchanged)
    project.images.set_status(reappeared, "ok")
    summary.missing = _mark_missing(project, folder, {project.to_stored(f) for f in files}, recursive)
    project.runs.record(
        "import", f"import:{project.to_stored(folder)}", "add_folder",
        {"folder": project.to_stored(folder), "recursive": recursive, "extensions": exts},
    )  # fmt: skip
    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    hashes = dict(project.con.execute("SELECT content_hash, path FROM images WHERE content_hash IS NOT NULL"))
    batch: list[tuple[Path, dict[str, Any], Thumbnail | None]] = []
    try:
        for i, (path, values, thumb) in enumerate(_read_many(to_read, n_workers, thumb_size), start=1):
            if _note_duplicate(project, path, values, hashes, summary) and skip_duplicates:
                summary.skipped_duplicates += 1
            else:
                batch.append((path, values, thumb))
            if len(batch) >= _BATCH:
                _commit(project, batch, summary)
            yield Progress(i, len(to_read), path.name)
    except (GeneratorExit, KeyboardInterrupt):  # cancelled: keep what was already read
        _commit(project, batch, summary)
        raise
    _commit(project, batch, summary)
    return summary


def _note_duplicate(
    project: Project, path: Path, values: dict[str, Any], hashes: dict[str, str], summary: ImportSummary
) -> bool:
    h = values.get("content_hash")
    stored = project.to_stored(path)
    if h is None:
        return False
    other = hashes.setdefault(h, stored)
    if other != stored:
        summary.duplicates.append((stored, other))
        return True
    return False


def _commit(
    project: Project, batch: list[tuple[Path, dict[str, Any], Thumbnail | None]], summary: ImportSummary
) -> None:
    if not batch:
        return
    with project.transaction():
        for path, values, thumb in batch:
            existed = project.images.by_path(path) is not None
            project.images.upsert(path, values, thumb)
            if values["status"] == "error":
                summary.errors.append((project.to_stored(path), str(values["error"])))
            if existed:
                summary.updated += 1
            else:
                summary.added += 1
    batch.clear()


def rescan(project: Project, *, workers: int | None = None) -> Task[ImportSummary]:
    """Re-scan every folder previously added to the project, with the options it was added with."""
    roots: dict[str, dict[str, Any]] = {}
    for run in project.runs.all("import"):
        roots[run.params["folder"]] = run.params
    total = ImportSummary()
    for params in roots.values():
        folder = project.resolve(params["folder"])
        if not folder.is_dir():
            yield Progress(0, 0, f"{folder} is not reachable; its images are kept as they are")
            continue
        result = yield from add_folder(
            project, folder, recursive=params["recursive"], extensions=params["extensions"], workers=workers
        )
        _merge(total, result)
    return total


def _merge(total: ImportSummary, part: ImportSummary) -> None:
    total.added += part.added
    total.updated += part.updated
    total.unchanged += part.unchanged
    total.errors += part.errors
    total.missing += part.missing
    total.duplicates += part.duplicates
    total.skipped_duplicates += part.skipped_duplicates
