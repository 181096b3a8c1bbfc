"""Taking one complete file into the project: the importer's own reader, then one small transaction.

The file is read with :func:`micview.core.importer.read_file` (hash, header, metadata, thumbnail — the same
record ``micview add`` makes), under the importer's per-file time limit. Only a file that decodes is stored:
one that does not is reported back as *not yet* (a writer that paused longer than the settling time), and
stored as unreadable only once it stayed undecodable for the give-up time. A file whose size or mtime
changed while it was read is not stored either: it is looked at again.

A file already in the project with the same size and mtime (the watch restarted, a USB disk came back) is
recognised and skipped, as ``micview add`` skips unchanged files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micview.core.file_scan import FoundFile
from micview.core.importer import READ_TIMEOUT_S, THUMBNAIL_SIZE, read_file, time_limit
from micview.core.reader_pool import ReadFailure, call_with_timeout
from micview.core.store import Project, Thumbnail
from micview.core.store.paths import readable, stored_path


@dataclass(frozen=True, slots=True)
class Taken:
    """A file now in the project: its image id, and whether it was new or replaced an older version."""

    image_id: int
    path: Path
    stored: str
    content_hash: str
    new: bool


@dataclass(frozen=True, slots=True)
class NotTaken:
    """A file not stored this time, and why (``unchanged``, ``undecodable``, ``changed``, ``unreadable``)."""

    found: FoundFile
    why: str
    reason: str = ""


def import_run_params(project: Project, folder: Path, recursive: bool, extensions: list[str] | None) -> dict[str, Any]:
    """The params ``micview add`` records for a folder, so ``micview rescan`` later covers the watched folder."""
    return {"folder": stored_path(project, folder), "recursive": recursive, "extensions": extensions, "file": False}


def take(
    project: Project, found: FoundFile, *, store_error: bool = False, read_timeout: float = READ_TIMEOUT_S
) -> Taken | NotTaken:
    """Read ``found`` and store it when it decodes (or as unreadable when ``store_error``)."""
    row = project.images.by_path(found.path)
    if row is not None and row.size_bytes == found.size and row.mtime == found.mtime and row.status == "ok":
        return NotTaken(found, "unchanged")
    reader = functools.partial(read_file, thumb_size=THUMBNAIL_SIZE)
    result = call_with_timeout(reader, str(found.path), time_limit(found.size, read_timeout))
    if isinstance(result, ReadFailure):
        values: dict[str, Any] = {"status": "error", "error": f"{readable(found.path.name)}: {result.reason}"}
        thumb: Thumbnail | None = None
    else:
        values, thumb = result
    if values.get("status") == "ok" and (values.get("size_bytes"), values.get("mtime")) != (found.size, found.mtime):
        return NotTaken(found, "changed")
    if values.get("status") != "ok" and not store_error:
        return NotTaken(found, "undecodable", str(values.get("error", "")))
    stored = stored_path(project, found.path)
    with project.transaction():
        image_id = project.images.upsert(found.path, _storable(values), thumb)
    if values.get("status") != "ok":
        return NotTaken(found, "unreadable", str(values.get("error", "")))
    return Taken(image_id, found.path, stored, str(values["content_hash"]), row is None)


def _storable(values: dict[str, Any]) -> dict[str, Any]:
    """Text from a file may hold undecodable bytes (surrogates) SQLite cannot store (as the importer does)."""
    return {k: readable(v) if isinstance(v, str) else v for k, v in values.items()}
