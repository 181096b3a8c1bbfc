"""The local paths of what is dropped on the window, exactly as the operating system spells them.

Why not ``QUrl.toLocalFile()``: it decodes the URL's percent-escapes as UTF-8 and replaces bytes that are not
valid UTF-8 (``bad%FF.jpg``) with U+FFFD, so a file whose name is not UTF-8 would be "not found". On POSIX the
escapes are decoded to bytes here and turned into a path with :func:`os.fsdecode` (surrogate escapes), the form
:mod:`micview.core` stores losslessly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes

from PySide6.QtCore import QMimeData, QUrl


def local_path(url: QUrl) -> Path | None:
    """The file a ``file:`` URL names, or None for a remote URL."""
    if not url.isLocalFile():
        return None
    if sys.platform == "win32" or url.host():  # Windows names are UTF-16; a UNC host: Qt knows best
        return Path(url.toLocalFile())
    encoded = url.path(QUrl.ComponentFormattingOption.FullyEncoded)
    return Path(os.fsdecode(unquote_to_bytes(encoded)))


def dropped_paths(mime: QMimeData) -> list[Path]:
    return [p for p in (local_path(u) for u in mime.urls()) if p is not None]
