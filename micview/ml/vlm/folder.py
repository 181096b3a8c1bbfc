"""Finding a vision-language model on this computer and checking it before any weights are read.

A model is named by a folder path, by an id registered with ``micview models add``, or by a Hugging Face
repository id already in the local cache. Nothing here imports torch: the checks (is it a VLM, does it ship
safetensors, does it need remote code, how many parameters) read only ``config.json`` and the safetensors
headers, so a wrong choice fails in milliseconds with a clear message.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from micview.ml.vlm.errors import NotAVlmError, RemoteCodeError

# model_type values of image-text-to-text models in transformers that micview has tried or that follow the
# same generic API (AutoProcessor + chat template + AutoModelForImageTextToText).
KNOWN_TYPES = frozenset({
    "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "idefics3", "smolvlm", "idefics2", "llava",
    "llava_next", "llava_onevision", "gemma3", "mistral3", "internvl", "aya_vision", "paligemma", "mllama",
})  # fmt: skip
PROCESSOR_FILES = ("processor_config.json", "preprocessor_config.json", "chat_template.json", "chat_template.jinja")

# Widely used instruction-tuned VLMs, for the model chooser; any other folder or cached repo works too.
SUGGESTED = (
    "HuggingFaceTB/SmolVLM-256M-Instruct",
    "HuggingFaceTB/SmolVLM-500M-Instruct",
    "Qwen/Qwen2.5-VL-3B-Instruct",
    "Qwen/Qwen2.5-VL-7B-Instruct",
    "Qwen/Qwen3-VL-4B-Instruct",
    "Qwen/Qwen3-VL-8B-Instruct",
    "llava-hf/llava-v1.6-mistral-7b-hf",
)


@dataclass(frozen=True, slots=True)
class VlmFolder:
    """A located VLM: the id to record, its folder, its model type and its parameter count."""

    model_id: str
    folder: Path
    model_type: str
    n_params: int
    safetensors: bool


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise NotAVlmError(f"{folder}: no config.json here; this is not a transformers model folder.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotAVlmError(f"{path}: cannot be read ({exc}).") from exc
    return data if isinstance(data, dict) else {}


def is_vlm_config(cfg: dict[str, Any]) -> bool:
    """A config of a vision-language model: a known type, or a generation model with a vision tower."""
    if cfg.get("model_type") in KNOWN_TYPES:
        return True
    archs = cfg.get("architectures") or []
    return "vision_config" in cfg and any(a.endswith("ForConditionalGeneration") for a in archs)


def looks_like_vlm(folder: Path) -> bool:
    """Cheap test for ``micview models add``: a VLM config plus a processor (no exception)."""
    try:
        cfg = _read_config(folder)
    except NotAVlmError:
        return False
    return is_vlm_config(cfg) and any((folder / f).is_file() for f in PROCESSOR_FILES)


def safetensors_parameters(folder: Path) -> int:
    """Number of parameters, read from the safetensors headers only (no tensor data is touched)."""
    total = 0
    for path in sorted(folder.glob("*.safetensors")):
        with path.open("rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(size))
        for name, info in header.items():
            if name != "__metadata__":
                n = 1
                for d in info["shape"]:
                    n *= int(d)
                total += n
    return total


def inspect(folder: Path, model_id: str, *, trust_remote_code: bool = False, allow_pickle: bool = False) -> VlmFolder:
    """Check ``folder`` is a loadable VLM and describe it; raise a :class:`NotAVlmError` saying why not."""
    cfg = _read_config(folder)
    if not is_vlm_config(cfg):
        raise NotAVlmError(
            f"{folder}: model type '{cfg.get('model_type')}' is not a vision-language model (expected e.g. "
            "Qwen2.5-VL, Qwen3-VL, SmolVLM/Idefics3 or LLaVA)."
        )
    if "auto_map" in cfg and cfg.get("model_type") not in KNOWN_TYPES and not trust_remote_code:
        raise RemoteCodeError(
            f"{folder}: this model needs Python code from its repository (auto_map in config.json). micview does "
            "not run downloaded code unless you allow it: use --trust-remote-code only if you trust the source."
        )
    has_st = any(folder.glob("*.safetensors"))
    if not has_st and not allow_pickle:
        raise NotAVlmError(
            f"{folder}: no *.safetensors weights. micview loads only safetensors by default (pickle-based .bin "
            "files can run code when read); convert the model, or allow .bin files explicitly."
        )
    n = safetensors_parameters(folder) if has_st else 0
    return VlmFolder(model_id, folder, str(cfg.get("model_type")), n, has_st)


def resolve(name: str | Path) -> tuple[str, Path]:
    """(model id, folder) for a folder path, a registered id, or a Hugging Face repo id in the local cache."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path.resolve().name, path.resolve()
    text = str(name)
    from micview.ml.errors import ModelError
    from micview.ml.registry import ModelSpec, get_spec, locate

    try:
        spec = get_spec(text)
    except ModelError:
        spec = ModelSpec(text, "transformers", None, True, repo_id=text)
    where = locate(spec)
    if where is not None and where.is_dir():
        return text, where
    raise NotAVlmError(
        f"Model '{text}' not found: it is neither a folder nor a registered id, and it is not in the Hugging "
        "Face cache. Give the model's folder, or download it once with internet access (e.g. `hf download "
        f"{text}`) and try again."
    )
