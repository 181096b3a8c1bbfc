"""Finding the image files under a folder without opening any of them.

Only regular files (or links to them) are candidates. A FIFO, socket or device with an image's extension is
listed as skipped with the reason: opening a FIFO blocks until someone writes to it, and reading a device
never ends, so neither may ever be opened by an import.

A folder named ``*.zarr`` (``*.ome.zarr``) is one image, never walked into: it is a candidate when its JSON
metadata describes an OME-NGFF image and is listed as skipped with the reason otherwise. Its size and mtime are
taken over all its files (:mod:`micview.core.folder_image`), so a changed image is read again.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from micview.core.folder_image import folder_stat, is_folder_image_name


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: Path
    size: int
    mtime: float


@dataclass
class Scan:
    """What a scan found: regular files to consider, and special files skipped (with the reason)."""

    files: list[FoundFile] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def supported_extensions() -> frozenset[str]:
    from micview.core.imaging import SUPPORTED_EXTENSIONS

    return SUPPORTED_EXTENSIONS


def normalise_extensions(extensions: Iterable[str] | None) -> set[str]:
    """``['tif', '.DM4']`` -> ``{'.tif', '.dm4'}``; ``None`` means every supported extension."""
    return {e.lower() if e.startswith(".") else "." + e.lower() for e in (extensions or supported_extensions())}


def special_file_reason(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is not read, or ``None`` for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file: skipped without opening it"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file: skipped"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file: skipped"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    return "not a regular file: skipped"


def scan(root: Path, *, recursive: bool = True, extensions: Iterable[str] | None = None) -> Scan:
    """Image files under ``root`` (hidden files and folders skipped), sorted for a stable import order.

    ``root`` may be a single file: it is then the only candidate, whatever its extension (the user named it).
    """
    out = Scan()
    if is_folder_image_name(root) and root.is_dir():
        _consider_folder(out, root)
        return out
    if not root.is_dir():
        _consider(out, root, _stat(root))
        return out
    exts = normalise_extensions(extensions)
    _walk(root, recursive, exts, out)
    out.files.sort(key=lambda f: f.path)
    out.skipped.sort()
    return out


def _walk(folder: Path, recursive: bool, exts: set[str], out: Scan) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        out.skipped.append((folder, f"cannot list this folder ({exc.strerror or exc})"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if is_folder_image_name(Path(entry.name)):  # one image: never walked into
                    if os.path.splitext(entry.name)[1].lower() in exts:
                        _consider_folder(out, Path(entry.path))
                elif recursive:
                    _walk(Path(entry.path), recursive, exts, out)
                continue
        except OSError:
            continue
        if os.path.splitext(entry.name)[1].lower() in exts:
            _consider(out, Path(entry.path), _entry_stat(entry))


def _entry_stat(entry: os.DirEntry[str]) -> os.stat_result | OSError:
    try:
        return entry.stat()  # follows a link: a link to an image is imported like the image
    except OSError as exc:
        return exc


def _stat(path: Path) -> os.stat_result | OSError:
    try:
        return path.stat()
    except OSError as exc:
        return exc


def _consider(out: Scan, path: Path, st: os.stat_result | OSError) -> None:
    if isinstance(st, OSError):
        why = "a link to nothing" if path.is_symlink() else f"cannot be read ({st.strerror or st})"
        out.skipped.append((path, why))
    elif stat.S_ISDIR(st.st_mode) and is_folder_image_name(path):  # a link to an OME-Zarr folder
        _consider_folder(out, path)
    elif (reason := special_file_reason(st.st_mode)) is not None:
        out.skipped.append((path, reason))
    else:
        out.files.append(FoundFile(path, st.st_size, st.st_mtime))


def _consider_folder(out: Scan, path: Path) -> None:
    """An OME-Zarr folder is a candidate; any other ``.zarr`` folder is skipped with the reason."""
    from micview.core.imaging._ngff import skip_reason

    if (reason := skip_reason(path)) is not None:
        out.skipped.append((path, reason))
        return
    try:
        size, mtime = folder_stat(path)
    except OSError as exc:
        out.skipped.append((path, f"cannot be read ({exc.strerror or exc})"))
        return
    out.files.append(FoundFile(path, size, mtime))


def scan_folder(folder: Path, *, recursive: bool = True, extensions: Iterable[str] | None = None) -> list[Path]:
    """Paths of the image files :func:`scan` finds under ``folder``."""
    return [f.path for f in scan(folder, recursive=recursive, extensions=extensions).files]
