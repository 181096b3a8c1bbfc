"""No model file can run code when micview reads it, whatever the environment (issue 11 §5).

Each test builds a checkpoint whose unpickling would create a marker file (``pickle_payloads``), sets
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` as a user with old checkpoints might, goes through the load path a user
takes, and asserts the marker never appears and the error says what is wrong without advising an unsafe load.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from pickle_payloads import (
    ENV,
    TYPE_ERROR_IN_RESTRICTED_UNPICKLER,
    call_global,
    malicious_checkpoint,
    pickle_list,
    write_legacy_checkpoint,
    write_zip_checkpoint,
)

from micview.ml import checkpoint
from micview.ml.checkpoint import UnsafeWeightsError, read_weights
from micview.ml.errors import ModelError
from micview.ml.registry import load_embedder, register_folder


def touch(path: str, mode: str) -> None:
    """Stands for any function some library allowlisted with ``torch.serialization.add_safe_globals``."""
    Path(path).write_text("ran")


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(ENV, "1")
    return tmp_path / "MARKER"


def _no_unsafe_advice(exc: BaseException) -> None:
    text = str(exc)  # torch's hint reads "re-running `torch.load` with `weights_only` set to `False`..."
    assert not re.search(r"weights_only.{0,20}False|Weights only load failed|trust the source", text), text


def _without_safetensors(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for p in dst.glob("*.safetensors"):
        p.unlink()
    return dst


def test_the_payload_is_real_open_clip_alone_runs_it(tiny_dirs: dict[str, Path], tmp_path: Path, marker: Path) -> None:
    """Control: open_clip's own loader, asked for a safe load, runs the payload under the variable."""
    import open_clip

    folder = _without_safetensors(tiny_dirs["tiny-oc"], tmp_path / "evil-oc")
    malicious_checkpoint(folder / "open_clip_pytorch_model.bin", marker)
    with pytest.raises(Exception):  # noqa: B017 - whatever it raises after running the payload
        open_clip.create_model(f"local-dir:{folder}", weights_only=True, require_pretrained=True)
    assert marker.exists()


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_read_weights_refuses_the_payload(tmp_path: Path, marker: Path, layout: str) -> None:
    path = tmp_path / "pytorch_model.bin"
    if layout == "zip":
        malicious_checkpoint(path, marker)
    else:
        write_legacy_checkpoint(path, marker)
    with pytest.raises(UnsafeWeightsError, match=r"names 'io\.open'.*does not load it") as err:
        read_weights(path)
    assert not marker.exists()
    _no_unsafe_advice(err.value)


def test_explicit_weights_only_load_holds_without_the_scan(
    tmp_path: Path, marker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Second gate alone: the restricted unpickler's TypeError is final, never retried with a full unpickle."""
    monkeypatch.setattr(checkpoint, "scan", lambda path: None)
    path = malicious_checkpoint(tmp_path / "model.pt", marker)
    with pytest.raises(UnsafeWeightsError, match=r"cannot be read as plain weights \(TypeError") as err:
        read_weights(path)
    assert not marker.exists()
    _no_unsafe_advice(err.value)


def test_a_type_error_inside_allowed_globals_is_a_clear_error(tmp_path: Path, marker: Path) -> None:
    data = pickle_list(TYPE_ERROR_IN_RESTRICTED_UNPICKLER)
    path = write_zip_checkpoint(tmp_path / "odd.pth", data)
    with pytest.raises(UnsafeWeightsError, match="cannot be read as plain weights") as err:
        read_weights(path)
    _no_unsafe_advice(err.value)


def test_globals_allowlisted_process_wide_do_not_widen_micview(tmp_path: Path, marker: Path) -> None:
    """A library's ``add_safe_globals`` makes torch's own safe load call that function; micview's does not."""
    path = write_zip_checkpoint(
        tmp_path / "w.pt", pickle_list(call_global(touch.__module__, "touch", str(marker), "w"))
    )
    with torch.serialization.safe_globals([touch]):
        torch.load(path, weights_only=True)  # control: the allowlist reaches torch's restricted unpickler
        assert marker.exists()
        marker.unlink()
        with pytest.raises(UnsafeWeightsError, match=re.escape(f"names '{touch.__module__}.touch'")):
            read_weights(path)
    assert not marker.exists()


def test_real_pickled_weights_still_load(tmp_path: Path) -> None:
    sd = {"w": torch.arange(6, dtype=torch.bfloat16).reshape(2, 3), "b": torch.nn.Parameter(torch.ones(2))}
    torch.save({"epoch": 3, "state_dict": sd}, tmp_path / "new.pt")
    torch.save(sd, tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    for name in ("new.pt", "old.pth"):
        got = read_weights(tmp_path / name)
        assert set(got) == {"w", "b"} and torch.equal(got["w"], sd["w"]) and got["w"].dtype == torch.bfloat16


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"PK\x03\x04 truncated zip"])
def test_garbage_weights_are_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=r"pytorch_model\.bin"):
        read_weights(path)


def test_torchscript_archives_are_refused(tmp_path: Path) -> None:
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), tmp_path / "model.pt")
    with pytest.raises(UnsafeWeightsError, match="TorchScript"):
        read_weights(tmp_path / "model.pt")


def test_open_clip_folder_with_payload_is_refused(tiny_dirs: dict[str, Path], tmp_path: Path, marker: Path) -> None:
    folder = _without_safetensors(tiny_dirs["tiny-oc"], tmp_path / "evil-oc")
    malicious_checkpoint(folder / "open_clip_pytorch_model.bin", marker)
    register_folder(folder, "evil-oc")
    with pytest.raises(ModelError, match=r"open_clip_pytorch_model\.bin.*io\.open") as err:
        load_embedder("evil-oc", device="cpu", precision="float32")
    assert not marker.exists()
    _no_unsafe_advice(err.value)


def _same_vectors(a_id: str, b_id: str) -> None:
    a = load_embedder(a_id, device="cpu", precision="float32")
    b = load_embedder(b_id, device="cpu", precision="float32")
    x = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    assert np.allclose(a.encode_pixels(x), b.encode_pixels(x), atol=1e-6)
    assert np.allclose(a.encode_text(["grains"]), b.encode_text(["grains"]), atol=1e-6)


@pytest.mark.parametrize(("model_id", "bin_name"), [("tiny-oc", "open_clip_pytorch_model.bin"),
                                                    ("tiny-clip", "pytorch_model.bin")])  # fmt: skip
def test_pickled_folder_loads_the_same_model(
    tiny: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_id: str, bin_name: str
) -> None:
    """A folder with only a .bin (as BiomedCLIP ships) gives the same vectors as the safetensors one."""
    from safetensors.torch import load_file

    monkeypatch.setenv(ENV, "1")
    src = tiny[model_id]
    sd = {k: v for p in src.glob("*.safetensors") for k, v in load_file(p).items()}
    folder = _without_safetensors(src, tmp_path / f"{model_id}-bin")
    torch.save(sd, folder / bin_name)
    register_folder(folder, f"{model_id}-bin")
    _same_vectors(model_id, f"{model_id}-bin")


def test_transformers_folder_with_payload_is_refused(tiny_dirs: dict[str, Path], tmp_path: Path, marker: Path) -> None:
    folder = _without_safetensors(tiny_dirs["tiny-clip"], tmp_path / "evil-clip")
    malicious_checkpoint(folder / "pytorch_model.bin", marker)
    register_folder(folder, "evil-clip")
    with pytest.raises(ModelError, match=r"pytorch_model\.bin.*io\.open") as err:
        load_embedder("evil-clip", device="cpu", precision="float32")
    assert not marker.exists()
    _no_unsafe_advice(err.value)


def test_transformers_sharded_bins_are_each_checked(tiny_dirs: dict[str, Path], tmp_path: Path, marker: Path) -> None:
    import json

    from safetensors.torch import load_file

    sd = load_file(tiny_dirs["tiny-clip"] / "model.safetensors")
    folder = _without_safetensors(tiny_dirs["tiny-clip"], tmp_path / "sharded")
    keys = sorted(sd)
    torch.save({k: sd[k] for k in keys[:10]}, folder / "pytorch_model-00001-of-00002.bin")
    malicious_checkpoint(folder / "pytorch_model-00002-of-00002.bin", marker)
    index = {k: "pytorch_model-00001-of-00002.bin" if i < 10 else "pytorch_model-00002-of-00002.bin"
             for i, k in enumerate(keys)}  # fmt: skip
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": index}))
    register_folder(folder, "sharded")
    with pytest.raises(ModelError, match=r"00002-of-00002\.bin.*io\.open"):
        load_embedder("sharded", device="cpu", precision="float32")
    assert not marker.exists()


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "micview", *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)  # fmt: skip


@pytest.mark.slow
def test_micview_embed_refuses_the_payload(
    tiny_dirs: dict[str, Path], image_dir: Path, tmp_path: Path, marker: Path
) -> None:
    """The whole path a user takes: `micview models add`, then `micview embed --model ID` in a fresh process."""
    folder = _without_safetensors(tiny_dirs["tiny-oc"], tmp_path / "evil-oc")
    malicious_checkpoint(folder / "open_clip_pytorch_model.bin", marker)
    env = {**os.environ, ENV: "1", "MICVIEW_CONFIG_DIR": str(tmp_path / "config"), "HF_HUB_OFFLINE": "1"}
    project = str(tmp_path / "p.micview")
    assert _cli(["new", project], env).returncode == 0
    assert _cli(["add", project, str(image_dir), "-q"], env).returncode == 0
    assert _cli(["models", "add", str(folder), "--id", "evil"], env).returncode == 0
    out = _cli(["embed", project, "--model", "evil", "--device", "cpu", "-q"], env)
    assert out.returncode == 1, out.stderr
    assert "io.open" in out.stderr and "does not load it" in out.stderr
    assert "Traceback" not in out.stderr
    assert not re.search(r"weights_only.{0,20}False", out.stderr)
    assert not marker.exists()
