"""Images that are folders (OME-Zarr): their size, modification time and content hash.

The importer keys everything on three facts of a file: size and mtime (unchanged since the last scan?) and the
content hash (a moved or renamed image keeps its record; embeddings are stored per hash, so the same pixels are
embedded once). For a folder image the three are taken over every file in it:

- size: the bytes of all its files; mtime: the latest modification time of any file or folder in it. Rewriting
  one chunk, adding a resolution level or editing the metadata therefore reads the image again. Computing them
  costs one ``stat`` per file (no file is opened), as listing a folder of that many single-file images would.
- content hash: blake2b-128 over, for every file in sorted order of its path relative to the image folder, that
  path, its size and its bytes. Relative paths keep the hash the same when the folder is moved or renamed (so a
  rescan matches it as moved); including the names and every level's chunks means two images differing in any
  pixel, level or metadata key differ, which keeps "same hash, same pixels" true for the embeddings.
  Desktop litter (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``, ``._*`` AppleDouble files) is left out of all
  three, so copying a folder through a Mac or Windows desktop does not turn it into a different image.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

FOLDER_EXTENSIONS = frozenset({".zarr"})
"""Suffixes of folders that are one image: OME-Zarr (``name.ome.zarr`` ends in ``.zarr`` too)."""
_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def is_folder_image_name(path: Path) -> bool:
    """Whether a folder of this name is meant as one image (``.zarr``, ``.ome.zarr``), whatever it holds."""
    return path.suffix.lower() in FOLDER_EXTENSIONS


def _files(folder: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(relative POSIX path, stat) of every regular file under ``folder``; links are not followed."""
    for dirpath, dirnames, filenames in os.walk(folder, onerror=_raise):
        dirnames.sort()
        for name in sorted(filenames):
            if name in _LITTER or name.startswith("._"):
                continue
            full = os.path.join(dirpath, name)
            st = os.stat(full, follow_symlinks=False)
            if not os.path.islink(full):
                yield Path(full).relative_to(folder).as_posix(), st


def _raise(exc: OSError) -> None:
    raise exc


def folder_stat(folder: Path) -> tuple[int, float]:
    """(total bytes, latest mtime) of a folder image, as a file's ``st_size`` and ``st_mtime`` are used."""
    size, mtime = 0, os.stat(folder).st_mtime
    for dirpath, _, _ in os.walk(folder, onerror=_raise):
        mtime = max(mtime, os.stat(dirpath).st_mtime)
    for _, st in _files(folder):
        size += st.st_size
        mtime = max(mtime, st.st_mtime)
    return size, mtime


def folder_hash(folder: Path) -> str:
    """blake2b-128 of a folder image's files: names relative to the folder, sizes and bytes (module docstring)."""
    h = hashlib.blake2b(digest_size=16)
    for rel, st in sorted(_files(folder), key=lambda e: e[0]):
        h.update(f"{rel}\0{st.st_size}\0".encode("utf-8", "surrogateescape"))
        with open(folder / rel, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()
