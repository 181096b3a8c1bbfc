"""Adding folders (or single files) of images to a project, and re-scanning them for new, changed, moved and
missing files.

Files are read (hash, header, metadata, thumbnail) in worker processes, because decoding is CPU-bound and
holds the GIL; the main process only writes to the project, in batches, each in one transaction. A cancel, a
crash or a kill therefore loses at most the batch in flight, and running the same import again reads only what
is not in the project yet (unchanged files are recognised by path, size and modification time).

One bad file never stops a folder: special files (FIFOs, sockets, devices) are skipped without being opened,
a read that stalls is given up after a time limit, a reader that crashes is replaced, and a name that is not
valid UTF-8 is stored losslessly (:mod:`micview.core.store.paths`). A file that was moved or renamed is
recognised by its content hash and its record (labels, notes, tags, embeddings, history) moves with it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micview.core.errors import ImageReadError, MicviewError
from micview.core.file_scan import (
    FoundFile,
    Scan,
    normalise_extensions,
    scan,
    scan_folder,
    special_file_reason,
    supported_extensions,
)  # fmt: skip
from micview.core.folder_image import folder_hash, folder_stat, is_folder_image_name
from micview.core.reader_pool import ReaderPool, ReadFailure, call_with_timeout
from micview.core.store import Project, Thumbnail
from micview.core.store.paths import local_path, readable, stored_path
from micview.core.tasks import Progress, Task

__all__ = [
    "READ_TIMEOUT_S", "THUMBNAIL_SIZE", "ImportSummary", "add_folder", "add_paths", "file_hash", "read_file", "rescan",
    "scan_folder", "supported_extensions",
]  # fmt: skip

THUMBNAIL_SIZE = 256
READ_TIMEOUT_S = 60.0  # per file, plus 1 s per 2 MB: a big stack on a slow share is slow, not stalled
_BYTES_PER_EXTRA_SECOND = 2_000_000
_BATCH = 32
_SERIAL_BELOW = 8  # starting worker processes costs more than it saves for a handful of files


@dataclass
class ImportSummary:
    """What an import or re-scan did, for the CLI's report and the GUI's notification.

    Paths are stored paths (relative to the project where possible; undecodable bytes shown as ``\\xNN``).
    """

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (stored path, reason)
    missing: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (new path, path with same content)
    skipped_duplicates: int = 0
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old path, new path)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # special files: (path, reason)

    @property
    def read(self) -> int:
        return self.added + self.updated + len(self.moved)

    def drop_moved_from_missing(self) -> None:
        moved_from = {old for old, _ in self.moved}
        self.missing = [m for m in self.missing if m not in moved_from]

    def merge(self, part: ImportSummary) -> None:
        """Add ``part`` (another folder's summary) to this one."""
        self.added += part.added
        self.updated += part.updated
        self.unchanged += part.unchanged
        self.errors += part.errors
        self.missing += part.missing
        self.duplicates += part.duplicates
        self.skipped_duplicates += part.skipped_duplicates
        self.moved += part.moved
        self.skipped += part.skipped


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
    name = readable(p.name)
    values: dict[str, Any] = {}
    try:
        st = p.stat()
        if is_folder_image_name(p) and p.is_dir():  # OME-Zarr: facts over all its files (folder_image)
            size, mtime = folder_stat(p)
            values.update(size_bytes=size, mtime=mtime, content_hash=folder_hash(p))
        elif (reason := special_file_reason(st.st_mode)) is not None:  # never open a FIFO or a device
            return {"status": "error", "error": f"{name}: {reason}"}, None
        else:
            values.update(size_bytes=st.st_size, mtime=st.st_mtime, content_hash=file_hash(p))
        summary = read_summary(p, thumb_size)
    except ImageReadError as exc:
        return {**values, "status": "error", "error": readable(str(exc))}, None
    except OSError as exc:
        return {**values, "status": "error", "error": f"{name}: cannot read the file ({exc.strerror or exc})"}, None
    except Exception as exc:  # a reader bug must not stop an import of thousands of files
        return {**values, "status": "error", "error": f"{name}: unexpected error while reading ({exc!r})"}, None
    info = summary.info
    values.update(
        status="ok", error=None, format=info.format, width=info.width, height=info.height, frames=info.frames,
        channels=info.channels, dtype=info.dtype, bit_depth=info.bit_depth, mode=info.mode,
        metadata_json=json.dumps(info.raw_metadata, default=str) if info.raw_metadata else None,
        **info.instrument.as_dict(),
    )  # fmt: skip
    return values, encode_thumbnail(summary.thumbnail)


def _warm_up() -> None:
    """Import the readers before a worker takes its first file, so start-up never counts as a stall."""
    import micview.core.imaging  # noqa: F401


def time_limit(size: int, base: float = READ_TIMEOUT_S) -> float:
    """Seconds one file may take before its read counts as stalled."""
    return base + size / _BYTES_PER_EXTRA_SECOND


Read = tuple[Path, dict[str, Any], Thumbnail | None]
# (files, workers, thumbnail size, read timeout) -> reads as they finish, in any order
Reader = Callable[[list[FoundFile], int, int, float], Iterator[Read]]


def _read_many(files: list[FoundFile], workers: int, thumb_size: int, timeout: float) -> Iterator[Read]:
    """Yield (path, values, thumbnail) as files finish reading, in worker processes when worth it."""
    func = functools.partial(read_file, thumb_size=thumb_size)
    if workers <= 1 or len(files) < _SERIAL_BELOW:
        for f in files:
            yield _as_read(f.path, call_with_timeout(func, str(f.path), time_limit(f.size, timeout)))
        return
    with ReaderPool(func, workers, initializer=_warm_up) as pool:
        for arg, result in pool.imap((str(f.path), time_limit(f.size, timeout)) for f in files):
            yield _as_read(Path(arg), result)


def _as_read(path: Path, result: tuple[dict[str, Any], Thumbnail | None] | ReadFailure) -> Read:
    if isinstance(result, ReadFailure):  # no size or mtime stored: the next re-scan tries it again
        return path, {"status": "error", "error": f"{readable(path.name)}: {result.reason}"}, None
    return path, *result


@dataclass
class _Plan:
    to_read: list[FoundFile]
    known: set[str]  # stored paths of files to read that already have a record (changed files)
    reappeared: list[int]
    unchanged: int


def _plan(project: Project, files: list[FoundFile]) -> _Plan:
    """Split files into to read / known ids that reappeared / unchanged, by path, size and mtime."""
    records = {
        r[0]: (r[1], r[2], r[3], r[4])
        for r in project.con.execute("SELECT path, id, size_bytes, mtime, status FROM images")
    }
    plan = _Plan([], set(), [], 0)
    for f in files:
        stored = stored_path(project, f.path)
        rec = records.get(stored)
        if rec is None:
            plan.to_read.append(f)
        elif rec[1] == f.size and rec[2] == f.mtime:
            plan.unchanged += 1
            if rec[3] == "missing":
                plan.reappeared.append(rec[0])
        else:
            plan.to_read.append(f)
            plan.known.add(stored)
    return plan


def _mark_missing(project: Project, root: Path, present: set[str], recursive: bool) -> list[str]:
    root_stored = stored_path(project, root)
    prefix = root_stored.rstrip("/") + "/"
    gone = []
    for image_id, stored in project.con.execute("SELECT id, path FROM images WHERE status != 'missing'"):
        inside = stored == root_stored or (
            stored.startswith(prefix) and (recursive or "/" not in stored[len(prefix) :])
        )
        if inside and stored not in present and not local_path(project, stored).exists():
            gone.append((image_id, stored))
    project.images.set_status([g[0] for g in gone], "missing")
    return [g[1] for g in gone]


class _ContentIndex:
    """Which records hold which content: tells a moved file from a new copy of a file already in the project."""

    def __init__(self, project: Project) -> None:
        self._p = project
        self._roots = [
            (r.params["folder"].rstrip("/") + "/", local_path(project, r.params["folder"]))
            for r in project.runs.all("import")
            if not r.params.get("file")
        ]
        self._by_hash: dict[str, list[tuple[int | None, str, str]]] = {}
        sql = "SELECT content_hash, id, path, status FROM images WHERE content_hash IS NOT NULL ORDER BY id"
        for h, image_id, path, status in project.con.execute(sql):
            self._by_hash.setdefault(h, []).append((image_id, path, status))

    def place(self, stored: str, content_hash: str | None, *, new: bool) -> tuple[str, Any]:
        """``('moved', (id, old path))``, ``('duplicate', other path)`` or ``('new', None)``."""
        if content_hash is None:
            return "new", None
        holders = self._by_hash.setdefault(content_hash, [])
        if new:
            for k, (image_id, path, status) in enumerate(holders):
                if image_id is not None and path != stored and self._gone(path, status):
                    holders[k] = (image_id, stored, "ok")
                    return "moved", (image_id, path)
        others = [p for _, p, _ in holders if p != stored]
        if stored not in {p for _, p, _ in holders}:
            holders.append((None, stored, "ok"))
        return ("duplicate", others[0]) if others else ("new", None)

    def _gone(self, stored: str, status: str) -> bool:
        """Known to be gone: marked missing by a scan, or absent while its folder (or the folder it was added
        from) is there. A file on an unmounted drive is not gone, so its record never moves to a copy."""
        if status == "missing":
            return True
        old = local_path(self._p, stored)
        if old.exists():
            return False
        if old.parent.is_dir():
            return True
        return any(stored.startswith(prefix) and root.is_dir() for prefix, root in self._roots)


@dataclass
class _Entry:
    path: Path
    values: dict[str, Any]
    thumb: Thumbnail | None
    move: tuple[int, str] | None = None  # (image id, old stored path)


def add_folder(
    project: Project,
    folder: str | Path,
    *,
    recursive: bool = True,
    extensions: Iterable[str] | None = None,
    workers: int | None = None,
    thumb_size: int = THUMBNAIL_SIZE,
    skip_duplicates: bool = False,
    read_timeout: float = READ_TIMEOUT_S,
    reader: Reader | None = None,
) -> Task[ImportSummary]:
    """Import (or re-scan) ``folder``, or a single file: new and changed files are read, vanished ones marked
    'missing', moved ones keep their record.

    A generator task (see :mod:`micview.core.tasks`): yields progress, returns an :class:`ImportSummary`.
    ``read_timeout`` is the time one file may take (plus 1 s per 2 MB) before it is reported as stalled.
    ``reader`` replaces the local worker processes (e.g. a cluster); planning, moves and commits stay here.
    """
    root = Path(folder)
    if not root.exists():
        raise MicviewError(f"{readable(str(root))}: no such folder or file.")
    return (
        yield from add_paths(
            project, [root], recursive=recursive, extensions=extensions, workers=workers, thumb_size=thumb_size,
            skip_duplicates=skip_duplicates, read_timeout=read_timeout, reader=reader,
        )
    )  # fmt: skip


def add_paths(
    project: Project,
    paths: Iterable[str | Path],
    *,
    recursive: bool = True,
    extensions: Iterable[str] | None = None,
    workers: int | None = None,
    thumb_size: int = THUMBNAIL_SIZE,
    skip_duplicates: bool = False,
    read_timeout: float = READ_TIMEOUT_S,
    reader: Reader | None = None,
) -> Task[ImportSummary]:
    """:func:`add_folder` for several folders and files at once (files dropped on the window, ``micview add A B``):
    one plan, one pool of readers and one summary, instead of a pass over the whole project per file.

    A path that is gone by now is listed in ``summary.skipped`` (nothing else happens to it); special files are
    skipped unopened, as in a folder.
    """
    roots = list(dict.fromkeys(Path(p) for p in paths))
    summary = ImportSummary()
    gone = [r for r in roots if not r.exists()]
    roots = [r for r in roots if r not in gone]
    exts = sorted(extensions) if extensions else None
    scans: list[Scan] = []
    for root in roots:
        yield Progress(0, 0, f"Scanning {readable(str(root))}")
        scans.append(scan(root, recursive=recursive, extensions=exts))
    files = _unique_files(scans)
    plan = _plan(project, files)
    summary.unchanged = plan.unchanged
    summary.skipped = [(stored_path(project, p), "not found: moved or deleted since it was chosen") for p in gone]
    summary.skipped += [(stored_path(project, p), why) for found in scans for p, why in found.skipped]
    project.images.set_status(plan.reappeared, "ok")
    present = {stored_path(project, f.path) for f in files}
    for root in roots:
        if root.is_dir() and not is_folder_image_name(root):  # a file root is present: nothing of it is missing
            summary.missing += _mark_missing(project, root, present, recursive)
    with project.transaction():
        for root in roots:
            root_stored = stored_path(project, root)
            single = not root.is_dir() or is_folder_image_name(root)  # an OME-Zarr folder given is one image
            params = {"folder": root_stored, "recursive": recursive, "extensions": exts, "file": single}
            project.runs.record("import", f"import:{root_stored}", "add_folder", params)
    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    index = _ContentIndex(project)
    batch: list[_Entry] = []
    try:
        reads = (reader or _read_many)(plan.to_read, n_workers, thumb_size, read_timeout)
        for i, (path, values, thumb) in enumerate(reads, start=1):
            entry = _place(project, index, plan, _Entry(path, values, thumb), summary, skip_duplicates)
            if entry is not None:
                batch.append(entry)
            if len(batch) >= _BATCH:
                _commit(project, batch, summary)
            yield Progress(i, len(plan.to_read), readable(path.name))
    except (GeneratorExit, KeyboardInterrupt):  # cancelled: keep what was already read
        _commit(project, batch, summary)
        raise
    _commit(project, batch, summary)
    summary.drop_moved_from_missing()
    return summary


def _unique_files(scans: list[Scan]) -> list[FoundFile]:
    """Every file found, once (a folder and a file in it may both be given), in a stable order."""
    files = {f.path: f for found in scans for f in found.files}
    return sorted(files.values(), key=lambda f: f.path)


def _place(
    project: Project, index: _ContentIndex, plan: _Plan, entry: _Entry, summary: ImportSummary, skip: bool
) -> _Entry | None:
    """Decide whether a file read is a moved record, a duplicate (maybe skipped) or simply new or changed."""
    stored = stored_path(project, entry.path)
    new = stored not in plan.known
    kind, ref = index.place(stored, entry.values.get("content_hash"), new=new)
    if kind == "moved":
        entry.move = ref
    elif kind == "duplicate":
        summary.duplicates.append((stored, ref))
        if skip and new:
            summary.skipped_duplicates += 1
            return None
    return entry


def _storable(values: dict[str, Any]) -> dict[str, Any]:
    """Text from a file or a message may hold undecodable bytes (surrogates) SQLite cannot store."""
    return {k: readable(v) if isinstance(v, str) else v for k, v in values.items()}


def _commit(project: Project, batch: list[_Entry], summary: ImportSummary) -> None:
    if not batch:
        return
    with project.transaction():
        for e in batch:
            stored = stored_path(project, e.path)
            if e.move is not None:
                project.images.move(e.move[0], e.path)
                summary.moved.append((e.move[1], stored))
            elif project.images.by_path(e.path) is not None:
                summary.updated += 1
            else:
                summary.added += 1
            project.images.upsert(e.path, _storable(e.values), e.thumb)
            if e.values["status"] == "error":
                summary.errors.append((stored, readable(str(e.values["error"]))))
    batch.clear()


def rescan(project: Project, *, workers: int | None = None) -> Task[ImportSummary]:
    """Re-scan every folder (and file) previously added to the project, with the options it was added with."""
    roots: dict[str, dict[str, Any]] = {}
    for run in project.runs.all("import"):
        roots[run.params["folder"]] = run.params
    total = ImportSummary()
    files: list[Path] = []  # single files added: re-read together, in one pass
    folders: list[tuple[Path, dict[str, Any]]] = []
    for params in roots.values():
        root = local_path(project, params["folder"])
        reachable = root.parent.is_dir() if params.get("file") else root.is_dir()
        if not reachable:
            yield Progress(0, 0, f"{readable(str(root))} is not reachable; its images are kept as they are")
            continue
        if params.get("file") and not root.exists():
            total.missing += _mark_missing(project, root, set(), False)
            continue
        if params.get("file"):
            files.append(root)
            continue
        result = yield from add_folder(
            project, root, recursive=params["recursive"], extensions=params["extensions"], workers=workers
        )
        total.merge(result)
        folders.append((root, params))
    files = [f for f in files if not any(_covered(f, folder, params) for folder, params in folders)]  # read once
    if files:
        total.merge((yield from add_paths(project, files, workers=workers)))
    total.drop_moved_from_missing()  # a file moved from one added folder to another
    return total


def _covered(file: Path, folder: Path, params: dict[str, Any]) -> bool:
    """Whether a scan of ``folder`` (with the options it was added with) finds ``file`` (as :func:`scan` walks)."""
    if not file.is_relative_to(folder) or file == folder:
        return False
    parts = file.relative_to(folder).parts
    if len(parts) > 1 and not params["recursive"]:
        return False
    return not any(p.startswith(".") for p in parts) and file.suffix.lower() in normalise_extensions(
        params["extensions"]
    )
