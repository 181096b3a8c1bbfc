"""Downloads from the Hugging Face hub, on explicit request only (``micview models pull``)."""

from __future__ import annotations

from pathlib import Path

from micview.ml.errors import ModelError

# Only what the loaders read: safe weight formats, configs, tokenizers and processors.
ALLOW = ["*.json", "*.safetensors", "*.txt", "*.model", "*.gz"]


def offline() -> bool:
    import os

    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false")


def download(repo_id: str) -> Path:
    """Fetch ``repo_id`` into the HF cache and return the snapshot folder; a clear error when offline."""
    from huggingface_hub import snapshot_download

    if offline():
        raise ModelError(
            f"Cannot download {repo_id}: offline mode is on (HF_HUB_OFFLINE). Unset it on a computer "
            "with internet, or copy the model folder here and use `micview models add PATH`."
        )
    from micview.ml.detect import weight_files

    try:
        folder = Path(snapshot_download(repo_id, allow_patterns=ALLOW))
        if not weight_files(folder):  # e.g. BiomedCLIP ships only a .bin (loaded with weights_only=True)
            folder = Path(snapshot_download(repo_id, allow_patterns=["*.bin"]))
        return folder
    except Exception as exc:  # connection refused, DNS, proxy, gated repo: all end the same way for a user
        raise ModelError(
            f"Cannot download {repo_id}: {type(exc).__name__}: {exc}. Check the internet connection, "
            "or copy the model folder here and use `micview models add PATH`."
        ) from exc
