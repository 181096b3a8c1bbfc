"""Recognise a model folder's family from its files, without loading any weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from micview.ml.errors import ModelError

TRANSFORMERS_TYPES = ("clip", "siglip", "siglip2")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt")


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot be read as JSON ({exc}).") from exc
    return data if isinstance(data, dict) else {}


def describe_folder(folder: Path) -> tuple[str, int | None]:
    """(family, embedding size or None) of a model folder.

    ``open_clip_config.json`` means open_clip; ``config.json`` with ``model_type`` clip/siglip/siglip2 means
    transformers; a vision-language model (config + processor) is ``vlm``. Anything else is refused with a
    message saying what was expected.
    """
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such folder.")
    if not weight_files(folder):
        raise ModelError(f"{folder}: no weights file (*.safetensors, *.bin, *.pth) in this folder.")
    if (folder / "open_clip_config.json").is_file():
        cfg = _json(folder / "open_clip_config.json").get("model_cfg", {})
        return "open_clip", cfg.get("embed_dim")
    if (folder / "config.json").is_file():
        from micview.ml.vlm.folder import looks_like_vlm

        if looks_like_vlm(folder):  # registered for ask/mcq/describe, not for embedding
            return "vlm", None
        cfg = _json(folder / "config.json")
        kind = cfg.get("model_type")
        if kind in TRANSFORMERS_TYPES:
            return "transformers", _hf_dim(cfg)
        raise ModelError(
            f"{folder}: model type '{kind}' is not supported; micview embeds with CLIP, SigLIP and "
            "SigLIP 2 models (transformers) or open_clip models."
        )
    raise ModelError(
        f"{folder}: not a model folder micview recognises (expected open_clip_config.json, or a "
        "transformers config.json of a CLIP or SigLIP model)."
    )


def _hf_dim(cfg: dict[str, Any]) -> int | None:
    if cfg.get("projection_dim"):
        return int(cfg["projection_dim"])
    hidden = cfg.get("vision_config", {}).get("hidden_size")
    return int(hidden) if hidden else None


def weight_files(folder: Path) -> list[Path]:
    """Weight files in ``folder`` (sorted), the set the weights hash covers."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
