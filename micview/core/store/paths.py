"""Image paths as the project stores them: any name the operating system allows, kept losslessly as text.

A POSIX file name is bytes, not text: ``bad\\xff.jpg`` is a valid name that no text encoding can spell, and
Python hands it over as a string with a "surrogate escape" (``'bad\\udcff.jpg'``) that SQLite cannot store.
Windows names may likewise hold lone UTF-16 surrogates. The project therefore stores such a character as a
readable escape, ``\\xff`` (or ``\\udXXX`` for other surrogates), which a person can read in a listing, an
export or a report, and :func:`decode_path` turns back into the exact name.

Every other name is stored unchanged. A backslash that would read as the start of an escape is doubled; a
lone backslash (``a\\b.tif``) is left alone, so ordinary names look the same in the project, the grid and a
CSV as in the file browser.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from micview.core.store.project import Project

# What the decoder reads as an escape: exactly the forms encode_path writes (lower-case hex only).
_ESCAPE = re.compile(r"\\(\\|x[89a-f][0-9a-f]|ud[89a-f][0-9a-f]{2})")
_NEEDS_ESCAPE = re.compile(r"[\\\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _escape_char(c: str) -> str:
    code = ord(c)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def encode_path(text: str) -> str:
    """The stored (and shown) form of ``text``: valid UTF-8, readable, and reversible by :func:`decode_path`."""
    if not _NEEDS_ESCAPE.search(text):
        return text
    out: list[str] = []
    # Right to left: whether a backslash must be doubled depends on the text written after it.
    for c in reversed(text):
        if c == "\\":
            after = "".join(reversed(out[-6:]))
            out.append("\\\\" if _ESCAPE.match("\\" + after) else "\\")
        elif "\ud800" <= c <= "\udfff":
            out.append(_escape_char(c))
        else:
            out.append(c)
    return "".join(reversed(out))


def decode_path(stored: str) -> str:
    """The exact name :func:`encode_path` was given (surrogate escapes included, for :class:`~pathlib.Path`)."""
    if "\\" not in stored:
        return stored
    return _ESCAPE.sub(_unescape, stored)


def _unescape(m: re.Match[str]) -> str:
    body = m.group(1)
    if body == "\\":
        return "\\"
    return chr(0xDC00 + int(body[1:], 16)) if body[0] == "x" else chr(int(body[1:], 16))


def readable(text: str) -> str:
    """``text`` safe to store or print anywhere (messages, progress): surrogates shown as escapes."""
    return _SURROGATE.sub(lambda m: _escape_char(m.group()), text)


def stored_path(project: Project, path: str | Path) -> str:
    """The stored path of a file: relative to the project's folder when inside it, POSIX, encoded."""
    return project.to_stored(path)


def local_path(project: Project, stored: str) -> Path:
    """The file a stored path names, as the operating system spells it."""
    return project.resolve(stored)
