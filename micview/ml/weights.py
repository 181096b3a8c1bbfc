"""The weights hash recorded with every embedding run (the recipe's "which exact weights").

sha256 over the weight files' bytes; hashing a 600 MB checkpoint takes seconds, so each file's digest is
cached in the config dir by (absolute path, size, mtime): a file changed in place gets a new hash.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from pathlib import Path

from micview.ml import config


def cache_key(path: Path) -> str:
    """The key of ``path``'s digest in the cache: a file changed in place gets a new key."""
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def file_sha256(path: Path) -> str:
    key = cache_key(path)
    cache = config.read_json(config.HASH_CACHE_FILE)
    if key in cache:
        return str(cache[key])
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    cache[key] = h.hexdigest()
    with contextlib.suppress(OSError):  # a read-only config dir only costs re-hashing next time
        config.write_json(config.HASH_CACHE_FILE, cache)
    return str(cache[key])


def weights_hash(files: Iterable[Path]) -> str:
    """One digest for a set of files: sha256 of a single file, or of the sorted (name, digest) list."""
    files = sorted(files, key=lambda p: p.name)
    if len(files) == 1:
        return "sha256:" + file_sha256(files[0])
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name}:{file_sha256(f)}\n".encode())
    return "sha256:" + h.hexdigest()
