"""Choosing where and in what precision a model runs.

GPU: CUDA in bfloat16 when the card supports it, else float16 (tensor cores either way). CPU: bfloat16 only
where the CPU has native bf16 arithmetic (x86 ``avx512_bf16`` or AMX); there it is 4× faster than float32
with cosine > 0.99 to the float32 vectors (tested). Elsewhere bf16 is emulated and slower, so float32.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

from micview.ml.errors import ModelError

PRECISIONS = ("float32", "bfloat16", "float16")


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU advertises native bf16 instructions (read from /proc/cpuinfo on Linux)."""
    if sys.platform != "linux":
        return False
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = set(text.split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def pick_device(requested: str | None) -> str:
    """'cpu', 'cuda' or 'mps'; ``None``/'auto' takes the best present; an absent GPU is an error."""
    import torch

    if requested in (None, "auto"):
        if torch.cuda.is_available():
            return "cuda"
        return "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError("No CUDA GPU is available here (or this torch build has no CUDA); use --device cpu.")
    if requested == "mps" and not torch.backends.mps.is_available():
        raise ModelError("Apple GPU (mps) is not available here; use --device cpu.")
    return requested


def pick_precision(device: str, requested: str | None) -> str:
    if requested is not None:
        if requested not in PRECISIONS:
            raise ModelError(f"Unknown precision '{requested}'; choose one of {', '.join(PRECISIONS)}.")
        return requested
    if device.startswith("cuda"):
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    return "bfloat16" if cpu_has_fast_bf16() else "float32"


def choose(device: str | None, precision: str | None) -> tuple[str, str]:
    """(device, precision name) resolved from the user's choice and what this machine has."""
    dev = pick_device(device)
    return dev, pick_precision(dev, precision)


def torch_dtype(precision: str) -> Any:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[precision]


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA OOM, or the CPU allocator failing: both mean 'try a smaller batch'."""
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)
