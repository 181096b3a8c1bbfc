"""VLM folders with pickle-based weights (``--allow-bin``): read by micview's checked loader, never by
transformers, and refused when they hold code (issue 11 §5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from pickle_payloads import ENV, malicious_checkpoint
from safetensors.torch import load_file

from micview.ml.errors import ModelError
from micview.ml.vlm import load_vlm


def _bin_folder(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    (dst / "model.safetensors").unlink()
    return dst


def test_allowed_bin_weights_load_the_same_model(vlm_dirs: dict[str, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv(ENV, "1")
    src = vlm_dirs["idefics3"]
    folder = _bin_folder(src, tmp_path / "bin")
    sd = load_file(src / "model.safetensors")
    torch.save(sd, folder / "pytorch_model.bin")
    vlm = load_vlm(folder, device="cpu", precision="float32", allow_pickle=True)
    ref = load_vlm(src, device="cpu", precision="float32")
    got, want = vlm.model.state_dict(), ref.model.state_dict()
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_bin_weights_with_code_are_refused_even_when_allowed(vlm_dirs: dict[str, Path], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv(ENV, "1")
    marker = tmp_path / "MARKER"
    folder = _bin_folder(vlm_dirs["qwen2_vl"], tmp_path / "evil")
    malicious_checkpoint(folder / "pytorch_model.bin", marker)
    with pytest.raises(ModelError, match=r"pytorch_model\.bin.*names 'io\.open'"):
        load_vlm(folder, device="cpu", precision="float32", allow_pickle=True)
    assert not marker.exists()
