"""transformers models from a folder, with any pickle-based weights read by micview, never by transformers.

A folder with ``*.safetensors`` loads through transformers with ``use_safetensors=True`` (safetensors cannot
hold code, and transformers then never opens a ``.bin``). A folder with only ``.bin`` shards has them read by
:func:`micview.ml.checkpoint.read_many` (static scan + explicit ``weights_only=True``) and the state dict is
handed to the model class with ``from_pretrained(None, config=..., state_dict=...)``, so transformers' key
renames and weight tying still apply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from micview.ml.checkpoint import PICKLE_SUFFIXES, read_many
from micview.ml.errors import ModelError

PICKLE_INDEX = "pytorch_model.bin.index.json"


def has_safetensors(folder: Path) -> bool:
    return any(folder.glob("*.safetensors"))


def pickle_shards(folder: Path) -> list[Path]:
    """The ``.bin`` files of a transformers folder: those its shard index names, else the single one(s)."""
    index = folder / PICKLE_INDEX
    if index.is_file():
        try:
            names = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"{index}: cannot be read ({exc}).") from exc
        shards = [folder / Path(n).name for n in names]
        if missing := [p.name for p in shards if not p.is_file()]:
            raise ModelError(f"{folder}: weight shards listed in {PICKLE_INDEX} are missing: {', '.join(missing)}.")
        return shards
    if (folder / "pytorch_model.bin").is_file():
        return [folder / "pytorch_model.bin"]
    shards = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in PICKLE_SUFFIXES)
    if not shards:
        raise ModelError(f"{folder}: no weights (*.safetensors or pytorch_model.bin) in this folder.")
    return shards


def from_folder(auto_cls: Any, mapping: Any, folder: Path, **kwargs: Any) -> Any:
    """``auto_cls.from_pretrained(folder)`` where no pickle is ever read by transformers.

    ``mapping`` is transformers' config-class → model-class mapping for ``auto_cls`` (e.g. ``MODEL_MAPPING``
    for ``AutoModel``). ``kwargs`` go to ``from_pretrained`` (``trust_remote_code``, ``dtype``, ...).
    """
    kwargs["local_files_only"] = True
    if has_safetensors(folder):
        return auto_cls.from_pretrained(folder, use_safetensors=True, **kwargs)
    from transformers import AutoConfig

    state_dict = read_many(pickle_shards(folder))  # refused here, before any model is built, if unsafe
    config = AutoConfig.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    try:
        model_cls = mapping[type(config)]
    except KeyError as exc:
        raise ModelError(
            f"{folder}: model type '{config.model_type}' loads only from *.safetensors weights here (its code is "
            "not part of transformers)."
        ) from exc
    kwargs.pop("trust_remote_code", None)
    kwargs.pop("use_safetensors", None)
    return model_cls.from_pretrained(None, config=config, state_dict=state_dict, **kwargs)
