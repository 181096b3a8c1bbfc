"""Write a file all at once or not at all, and say in plain words why it could not be written.

Every file micview writes for a user (CSV exports, plate maps, results) goes through :func:`atomic_write`:
the data goes to a temporary file beside the target, is flushed to disk, and is renamed over the target only
when complete, so a full disk or a killed process never leaves half a file, and an existing file is either
the old one or the new one. A new file gets the permissions any program would give it (``0666`` less the
umask); a file that is replaced keeps its permissions. Failures raise :class:`~micview.core.errors.OutputError`
whose message names the path and the reason (no such folder, is a folder, no permission, read-only, full).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from micview.core.errors import OutputError

_REASONS = {
    errno.ENOENT: "the folder {parent} does not exist",
    errno.ENOTDIR: "{parent} is not a folder",
    errno.EISDIR: "it is a folder; give a file name inside it",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EROFS: "the disk is read-only",
    errno.ENOSPC: "the disk is full; free some space and run it again",
    errno.EDQUOT: "the disk quota is used up; free some space and run it again",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EFBIG: "the file is too large for this disk",
}


def reason(exc: OSError, path: Path | None = None) -> str:
    """Why ``exc`` happened, in words a user understands (for reading as for writing)."""
    template = _REASONS.get(exc.errno or 0)
    if exc.errno in (errno.EACCES, errno.EPERM):
        template = "no permission"
    if exc.errno == errno.ENOENT:
        template = "no such file or folder"
    if exc.errno == errno.EEXIST:
        template = "already exists"
    parent = path.parent if path is not None else ""
    return template.format(parent=parent) if template else (exc.strerror or str(exc))


def write_problem(path: Path, exc: OSError) -> OutputError:
    """An :class:`OutputError` for ``exc`` raised while writing ``path``, with a reason a user understands."""
    template = _REASONS.get(exc.errno or 0)
    if exc.errno == errno.ENOENT and path.parent.is_dir():  # e.g. /proc: the folder is there but takes no files
        template = "no file can be created in {parent}"
    reason = template.format(parent=path.parent) if template else (exc.strerror or str(exc))
    return OutputError(f"Cannot write {path}: {reason}. Nothing was written.")


def check_target(path: str | Path) -> None:
    """Raise :class:`OutputError` now if ``path`` clearly cannot be written: a folder, no such folder, no access.

    Commands that work for minutes before writing their file call it first, so a typo in the output path is
    reported at once. :func:`atomic_write` calls it too; a full disk is only found when writing.
    """
    path = Path(path)
    if path.is_dir():
        raise write_problem(path, OSError(errno.EISDIR, os.strerror(errno.EISDIR)))
    parent = path.parent
    if not parent.exists():
        raise write_problem(path, OSError(errno.ENOENT, os.strerror(errno.ENOENT)))
    if not parent.is_dir():
        raise write_problem(path, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
    if not os.access(parent, os.W_OK):
        raise write_problem(path, OSError(errno.EACCES, os.strerror(errno.EACCES)))


def _open_temp(path: Path, existing_mode: int | None) -> tuple[int, Path]:
    """A new temporary file beside ``path``: created ``0666 & ~umask``, or with the replaced file's mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if existing_mode is not None:
            # A file system without modes (FAT, some network shares) refuses: keep the default then.
            with contextlib.suppress(OSError):
                os.chmod(tmp, existing_mode)
        return fd, tmp


@contextmanager
def atomic_write(
    path: str | Path, mode: str = "w", *, encoding: str | None = None, newline: str | None = None
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing; the file appears (or replaces the old one) only when the block ends well.

    ``mode`` is ``"w"`` (text, give ``encoding``) or ``"wb"``. A symbolic link is followed: its target is
    replaced, the link kept. On any failure the temporary file is removed and the old file, if any, is left
    as it was; an ``OSError`` becomes an :class:`OutputError`, other exceptions pass through unchanged.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    target = Path(path)
    target = Path(os.path.realpath(target)) if target.is_symlink() else target
    check_target(target)
    try:
        existing = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
        fd, tmp = _open_temp(target, existing)
    except OSError as exc:
        raise write_problem(target, exc) from exc
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_problem(target, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` with :func:`atomic_write`; returns the path."""
    with atomic_write(path, "wb") as f:
        f.write(data)
    return Path(path)
