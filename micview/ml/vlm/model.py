"""Loading a vision-language model through transformers' generic API, and freeing it again.

``AutoProcessor`` + the processor's chat template + ``AutoModelForImageTextToText`` cover Qwen2/2.5/3-VL,
SmolVLM/Idefics3 and LLaVA(-NeXT) without per-model code. The memory check runs *before* loading: parameter
count (from the safetensors headers) × bytes per parameter, plus a margin for activations, against the free
GPU memory (or available RAM), so a too-large model gives a clear message instead of an out-of-memory crash.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micview.ml.vlm.errors import NotAVlmError, VlmMemoryError
from micview.ml.vlm.folder import VlmFolder, inspect, resolve

_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
_MARGIN = 1.2  # weights plus ~20 % for activations and the KV cache of a few thousand tokens
_HEADROOM = 512 * 2**20
GIB = 2**30


@dataclass
class VisionLanguageModel:
    """A loaded VLM: the transformers model and processor, where it runs, and its recipe facts."""

    info: VlmFolder
    model: Any
    processor: Any
    device: str
    precision: str
    weights_hash: str
    notes: list[str] = field(default_factory=list)  # things the user should know (e.g. "slow on CPU")

    @property
    def id(self) -> str:
        return self.info.model_id

    @property
    def tokenizer(self) -> Any:
        return getattr(self.processor, "tokenizer", self.processor)

    def unload(self) -> None:
        """Drop the weights and return the memory (GPU memory included) to the system."""
        self.model = None
        gc.collect()
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    def recipe(self) -> dict[str, Any]:
        return {"model_type": self.info.model_type, "device": self.device, "precision": self.precision,
                "parameters": self.info.n_params}  # fmt: skip


def needed_bytes(n_params: int, precision: str) -> int:
    return int(n_params * _BYTES[precision] * _MARGIN) + _HEADROOM


def _available_ram() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(info: VlmFolder, device: str, precision: str) -> None:
    """Raise :class:`VlmMemoryError` when the model clearly cannot fit where it is to run."""
    need = needed_bytes(info.n_params, precision)
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        where = f"GPU {device}"
    else:
        free, where = _available_ram() or need, "RAM"
    if need > free:
        raise VlmMemoryError(
            f"{info.model_id} has {info.n_params / 1e9:.1f} billion parameters and needs about {need / GIB:.1f} GiB "
            f"in {precision}, but only {free / GIB:.1f} GiB of {where} is free. Close other programs using it, "
            "choose a smaller model (e.g. a 2–3 B one), or run on the CPU with --device cpu."
        )


def _auto_model_class() -> tuple[Any, Any]:
    """The auto class for VLMs and its config → model-class mapping (transformers >= 5, as pyproject requires)."""
    from transformers import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING, AutoModelForImageTextToText

    return AutoModelForImageTextToText, MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING


def _from_pretrained(folder: Path, precision: str, trust: bool, pickle_ok: bool) -> tuple[Any, Any]:
    """Processor and model; ``.bin`` weights (only with ``pickle_ok``) are read by micview, never by transformers."""
    from transformers import AutoProcessor

    from micview.ml.device import torch_dtype
    from micview.ml.hf_weights import from_folder, has_safetensors

    if not pickle_ok and not has_safetensors(folder):  # inspect() says so first; this guards other callers
        raise NotAVlmError(f"{folder}: no *.safetensors weights, and .bin files were not allowed.")
    auto_cls, mapping = _auto_model_class()
    try:
        processor = AutoProcessor.from_pretrained(folder, local_files_only=True, trust_remote_code=trust)
        model = from_folder(auto_cls, mapping, folder, dtype=torch_dtype(precision), trust_remote_code=trust)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NotAVlmError(
            f"{folder}: cannot load this model with transformers ({type(exc).__name__}: {exc})."
        ) from exc
    return model, processor


def load_vlm(
    name: str | Path,
    *,
    device: str | None = None,
    precision: str | None = None,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
) -> VisionLanguageModel:
    """Load a VLM from a folder, a registered id or the HF cache (never the network).

    ``device``/``precision`` default to CUDA in bf16 (fp16 where bf16 is unsupported), else CPU (bf16 where
    the CPU has native bf16, else fp32). ``trust_remote_code`` and ``allow_pickle`` (``.bin`` weights) stay
    off unless the caller passes them.
    """
    from micview.ml.detect import weight_files
    from micview.ml.device import choose
    from micview.ml.weights import weights_hash

    model_id, folder = resolve(name)
    info = inspect(folder, model_id, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    dev, prec = choose(device, precision)
    check_memory(info, dev, prec)
    model, processor = _from_pretrained(folder, prec, trust_remote_code, allow_pickle)
    model.to(dev).eval()
    tokenizer = getattr(processor, "tokenizer", processor)
    tokenizer.padding_side = "left"  # batched prompts must end at the same position: the answer comes next
    files = [p for p in weight_files(folder) if allow_pickle or p.suffix == ".safetensors"]
    vlm = VisionLanguageModel(info, model, processor, dev, prec, weights_hash(files))
    if dev == "cpu":
        vlm.notes.append(
            f"{model_id} runs on the CPU ({prec}): expect seconds to minutes per answer for a billion-parameter "
            "model. A CUDA GPU is 10–100× faster."
        )
    return vlm


def not_an_embedder(spec: Any, where: Path) -> Any:
    """The registry's loader for VLM folders: they answer questions, they do not embed images."""
    from micview.ml.errors import ModelError

    raise ModelError(
        f"'{spec.id}' is a vision-language model: use it with `micview ask`, `mcq` or `describe` "
        "(--model " + spec.id + "), not for embeddings."
    )
