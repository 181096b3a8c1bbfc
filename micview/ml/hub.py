"""Downloads from the Hugging Face hub, on explicit request only (``micview models pull``)."""

from __future__ import annotations

from pathlib import Path

# Only what the loaders read: safe weight formats, configs, tokenizers and processors.
ALLOW = ["*.json", "*.safetensors", "*.txt", "*.model", "*.gz"]


def offline() -> bool:
    import os

    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false")


def download(repo_id: str) -> Path:
    """Fetch ``repo_id`` into the HF cache, check every file's checksum, and return the snapshot folder.

    The same work as :func:`micview.ml.hub_download.download_task` (progress, cancel) without the progress.
    """
    from micview.core.tasks import run_task
    from micview.ml.hub_download import download_task

    return run_task(download_task(repo_id))
