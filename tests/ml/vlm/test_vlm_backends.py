"""Loading VLM folders as a user would: both families load, generate, and every refusal is a clear message."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from vlm_helpers import random_image as _image

from micview.ml.vlm import GenerationSettings, generate_texts, load_vlm
from micview.ml.vlm.errors import NotAVlmError, RemoteCodeError, VlmMemoryError
from micview.ml.vlm.folder import inspect, looks_like_vlm, safetensors_parameters
from micview.ml.vlm.prompts import question_conversation


def test_both_families_load_and_generate(vlm) -> None:
    assert vlm.device == "cpu" and vlm.precision == "float32"
    assert vlm.weights_hash.startswith("sha256:")
    assert any("CPU" in n for n in vlm.notes)  # the honest speed note
    texts = generate_texts(vlm, [question_conversation(_image(), "What is this?")], GenerationSettings(8))
    assert len(texts) == 1 and isinstance(texts[0], str)


def test_tiny_qwen_generates_fast(qwen) -> None:
    conv = [question_conversation(_image(), "What is this?")]
    generate_texts(qwen, conv, GenerationSettings(4))  # warm-up
    start = time.perf_counter()
    generate_texts(qwen, conv, GenerationSettings(4))
    assert time.perf_counter() - start < 1.0  # ~0.05 s alone; generous for a shared 2-core machine


def test_parameter_count_from_headers(vlm_dirs: dict[str, Path], qwen) -> None:
    n = safetensors_parameters(vlm_dirs["qwen2_vl"])
    assert n == sum(p.numel() for p in qwen.model.state_dict().values())
    assert looks_like_vlm(vlm_dirs["qwen2_vl"]) and looks_like_vlm(vlm_dirs["idefics3"])


def test_missing_folder_and_not_a_vlm(tmp_path: Path) -> None:
    with pytest.raises(NotAVlmError, match="not found"):
        load_vlm(tmp_path / "absent")
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(NotAVlmError, match="not a vision-language model"):
        load_vlm(tmp_path / "bert")
    assert not looks_like_vlm(tmp_path / "bert")


def _copy(src: Path, dst: Path) -> Path:
    return Path(shutil.copytree(src, dst))


def test_only_safetensors_and_no_remote_code_by_default(vlm_dirs: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(vlm_dirs["qwen2_vl"], tmp_path / "m")
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "model_type": "custom_vl", "auto_map": {"x": "y"}}))
    with pytest.raises(RemoteCodeError, match="trust-remote-code"):
        inspect(folder, "m")
    (folder / "config.json").write_text(json.dumps(cfg))
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(NotAVlmError, match="safetensors"):
        load_vlm(folder)


def test_memory_is_checked_before_loading(vlm_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import micview.ml.vlm.model as model_mod

    monkeypatch.setattr(model_mod, "_available_ram", lambda: 1000)
    monkeypatch.setattr(model_mod, "_from_pretrained", lambda *a: pytest.fail("loaded despite the check"))
    with pytest.raises(VlmMemoryError, match="GiB of RAM is free"):
        load_vlm(vlm_dirs["qwen2_vl"], device="cpu", precision="float32")


def test_unload_frees_the_model(vlm_dirs: dict[str, Path]) -> None:
    import gc
    import weakref

    vlm = load_vlm(vlm_dirs["idefics3"], device="cpu", precision="float32")
    ref = weakref.ref(vlm.model)
    vlm.unload()
    gc.collect()
    assert vlm.model is None and ref() is None


def test_models_add_registers_a_vlm_folder_that_cannot_be_used_to_embed(vlm_dirs: dict[str, Path]) -> None:
    from micview.ml.errors import ModelError
    from micview.ml.registry import get_spec, load_embedder, register_folder

    spec = register_folder(vlm_dirs["idefics3"], "tiny-vlm")
    assert spec.family == "vlm" and get_spec("tiny-vlm").path == str(vlm_dirs["idefics3"].resolve())
    with pytest.raises(ModelError, match="vision-language model"):
        load_embedder("tiny-vlm")
