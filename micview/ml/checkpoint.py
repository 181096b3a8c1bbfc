"""Reading model weights without ever running code from the file.

A ``.safetensors`` file holds only tensors and is read with safetensors. A ``.bin``/``.pt``/``.pth`` file is a
pickle, and a pickle can name any Python function to call while it is read. Such files go through two gates:

1. a static scan of every pickle torch would read (``data.pkl`` of a zip checkpoint, the five pickles of the
   legacy format): only the instructions and the handful of globals a tensor state dict needs are allowed
   (``collections.OrderedDict``, torch storages, dtypes and tensor rebuild functions). Anything else
   (``builtins.open``, ``os.system``, a class added by some library with ``add_safe_globals``) is refused
   before torch sees the file;
2. ``torch.load(weights_only=True)`` passed explicitly. In torch 2.14 ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
   only applies when ``weights_only`` is *not* passed (and ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` only narrows), so
   no environment variable can widen this call.

Any failure is final: there is no retry with a looser loader (open_clip's ``except TypeError: torch.load(p)``
is exactly what this replaces), and torch's advice to retry with ``weights_only=False`` is never passed on.
"""

from __future__ import annotations

import io
import pickletools
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from micview.ml.errors import ModelError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth")
_ZIP_MAGIC = b"PK\x03\x04"  # how torch itself tells a zip checkpoint from the legacy format

# What torch's restricted unpickler understands; anything else cannot be part of a plain weights file.
_OPCODES = frozenset({
    "GLOBAL", "NEWOBJ", "REDUCE", "BUILD", "APPEND", "APPENDS", "SETITEM", "SETITEMS", "MARK", "TUPLE",
    "TUPLE1", "TUPLE2", "TUPLE3", "NONE", "NEWFALSE", "NEWTRUE", "EMPTY_TUPLE", "EMPTY_LIST", "EMPTY_DICT",
    "EMPTY_SET", "BININT", "BININT1", "BININT2", "BINFLOAT", "BINUNICODE", "SHORT_BINSTRING", "BINPERSID",
    "BINGET", "LONG_BINGET", "BINPUT", "LONG_BINPUT", "LONG1", "PROTO", "STOP",
})  # fmt: skip
_GLOBALS = frozenset({
    "collections OrderedDict", "torch Size", "torch device", "torch.nn.parameter Parameter", "_codecs encode",
    "torch._utils _rebuild_tensor", "torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_tensor_v3",
    "torch._utils _rebuild_parameter", "torch._utils _rebuild_parameter_with_state",
    "torch.storage UntypedStorage", "torch.storage TypedStorage",
})  # fmt: skip
_STORAGE = re.compile(r"torch [A-Za-z0-9]+Storage")
_DTYPE = re.compile(r"torch (bool|u?int\d+|float\d+(_\w+)?|bfloat16|complex\d+|half|double|float|long|int|short)")
_LEGACY_PICKLES = 5  # magic number, protocol, system info, the object, storage keys


class UnsafeWeightsError(ModelError):
    """A weights file that is more than tensors, or that cannot be read as plain weights."""


def _allowed_global(name: str) -> bool:
    return name in _GLOBALS or bool(_STORAGE.fullmatch(name) or _DTYPE.fullmatch(name))


def _scan_pickle(stream: IO[bytes], path: Path) -> None:
    """Walk one pickle's instructions (nothing is executed); raise on anything a state dict does not need."""
    try:
        for op, arg, _pos in pickletools.genops(stream):
            if op.name not in _OPCODES:
                raise UnsafeWeightsError(
                    f"{path}: not a plain weights file (pickle instruction {op.name}, which tensors never need). "
                    "micview does not load it."
                )
            if op.name == "GLOBAL" and not _allowed_global(str(arg)):
                name = str(arg).replace(" ", ".")
                raise UnsafeWeightsError(
                    f"{path}: this weights file names '{name}', which is not part of plain weights and would run "
                    "as Python code when the file is read. micview does not load it. Use the model's "
                    "*.safetensors weights, or get the weights from a source you trust."
                )
    except (ValueError, EOFError) as exc:  # pickletools: truncated or not a pickle at all
        raise UnsafeWeightsError(f"{path}: not a PyTorch weights file ({exc}).") from exc


def _scan_zip(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        if len(names) != len(set(names)):
            raise UnsafeWeightsError(f"{path}: malformed checkpoint (an entry appears twice).")
        if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
            raise UnsafeWeightsError(f"{path}: a TorchScript program, not a weights file; micview does not run it.")
        data = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if len(data) != 1:
            raise UnsafeWeightsError(f"{path}: not a PyTorch weights file (expected one data.pkl, found {len(data)}).")
        _scan_pickle(io.BytesIO(z.read(data[0])), path)


def _scan_legacy(path: Path) -> None:
    with path.open("rb") as f:
        for _ in range(_LEGACY_PICKLES):
            _scan_pickle(f, path)


def scan(path: Path) -> None:
    """Refuse ``path`` unless every pickle torch would read from it is made of plain-weights parts only."""
    try:
        with path.open("rb") as f:
            is_zip = f.read(4) == _ZIP_MAGIC
        if is_zip:
            _scan_zip(path)
        else:
            _scan_legacy(path)
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    except zipfile.BadZipFile as exc:
        raise UnsafeWeightsError(f"{path}: damaged checkpoint ({exc}).") from exc


def _reason(exc: BaseException) -> str:
    """torch's message, minus its advice to load with ``weights_only=False`` (never the right fix here)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if not first or "weights_only" in first or "Weights only load failed" in first:
        return type(exc).__name__
    return f"{type(exc).__name__}: {first[:200]}"


def _tensors(obj: Any, path: Path) -> dict[str, Any]:
    """The tensors of a loaded checkpoint: a state dict, or a training checkpoint's ``state_dict`` entry."""
    import torch

    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise UnsafeWeightsError(f"{path}: holds a {type(obj).__name__}, not a dictionary of tensors.")
    out = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not out:
        raise UnsafeWeightsError(f"{path}: holds no tensors.")
    if all(k.startswith("module.") for k in out):  # saved from DataParallel
        out = {k[len("module.") :]: v for k, v in out.items()}
    return out


def read_pickled(path: Path) -> dict[str, Any]:
    """Tensors of a ``.bin``/``.pt``/``.pth`` file: static scan, then an explicit ``weights_only=True`` load."""
    import torch

    scan(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # every failure is final; torch raises many types here
        raise UnsafeWeightsError(
            f"{path}: cannot be read as plain weights ({_reason(exc)}). micview does not retry with a loader "
            "that could run code from the file; use the model's *.safetensors weights if it has them."
        ) from None
    return _tensors(obj, path)


def read_weights(path: Path) -> dict[str, Any]:
    """Tensors of one weights file, ``.safetensors`` or pickle-based, on the CPU."""
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return dict(load_file(str(path), device="cpu"))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelError(f"{path}: damaged safetensors file ({exc}).") from exc
    if path.suffix in PICKLE_SUFFIXES:
        return read_pickled(path)
    raise ModelError(f"{path}: unknown weights format (expected .safetensors, .bin, .pt or .pth).")


def read_many(paths: Iterable[Path]) -> dict[str, Any]:
    """Merged tensors of a sharded checkpoint (shards never share a name)."""
    merged: dict[str, Any] = {}
    for p in paths:
        merged.update(read_weights(p))
    return merged
