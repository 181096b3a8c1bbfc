"""Model registry: built-ins, folder registration and detection, offline behaviour, weights hash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from micview.core.errors import MicviewWarning
from micview.ml import registry
from micview.ml.errors import ModelError, ModelNotAvailableError
from micview.ml.weights import file_sha256, weights_hash


def test_builtins_and_default() -> None:
    ids = [s.id for s in registry.all_models()]
    assert ids[0] == registry.DEFAULT_MODEL and len(set(ids)) == len(ids)
    default = registry.get_spec(registry.DEFAULT_MODEL)
    assert (default.family, default.dim, default.has_text) == ("effnet", 1280, False)
    assert registry.locate(default) is not None  # ships with micview: works offline on a fresh machine
    for spec in registry.BUILTIN:
        assert spec.loader.split(":")[0].startswith("micview.ml.families.")


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(ModelError, match=r"Unknown model 'nope'.*effnet-lite0"):
        registry.get_spec("nope")


def test_hub_model_not_in_cache_is_unavailable_offline() -> None:
    spec = registry.get_spec("clip-vit-b-32")
    assert registry.locate(spec) is None
    with pytest.raises(ModelNotAvailableError, match="models pull clip-vit-b-32"):
        registry.require(spec)


@pytest.mark.parametrize(
    ("model_id", "family", "dim"),
    [("tiny-oc", "open_clip", 24), ("tiny-clip", "transformers", 16), ("tiny-siglip", "transformers", 32)],
)
def test_register_detects_family_and_persists(tiny_dirs: dict[str, Path], model_id: str, family: str, dim: int) -> None:
    spec = registry.register_folder(tiny_dirs[model_id])
    assert (spec.family, spec.dim, spec.has_text) == (family, dim, True)
    assert spec.id == model_id  # default id: the folder name
    saved = json.loads((Path(os.environ["MICVIEW_CONFIG_DIR"]) / "models.json").read_text())
    assert saved["models"][model_id]["path"] == str(tiny_dirs[model_id].resolve())
    assert registry.get_spec(model_id).path == spec.path
    assert registry.locate(registry.get_spec(model_id)) == Path(spec.path)
    registry.unregister(model_id)
    with pytest.raises(ModelError):
        registry.get_spec(model_id)


def test_register_refuses_what_it_cannot_load(tmp_path: Path, tiny_dirs: dict[str, Path]) -> None:
    with pytest.raises(ModelError, match="no such folder"):
        registry.register_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no weights"):
        registry.register_folder(tmp_path / "empty")
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text('{"model_type": "bert"}')
    (bert / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError, match="model type 'bert' is not supported"):
        registry.register_folder(bert)
    with pytest.raises(ModelError, match="built-in model id"):
        registry.register_folder(tiny_dirs["tiny-oc"], "effnet-lite0")


def test_broken_settings_file_warns_and_is_ignored() -> None:
    folder = Path(os.environ["MICVIEW_CONFIG_DIR"])
    folder.mkdir(parents=True)
    (folder / "models.json").write_text("{not json")
    with pytest.warns(MicviewWarning, match="ignored"):
        assert [s.id for s in registry.all_models()] == [s.id for s in registry.BUILTIN]


def test_pull_offline_says_so() -> None:
    with pytest.raises(ModelError, match="offline mode is on"):
        registry.pull("clip-vit-b-32")


def test_pull_without_network_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hf

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hf, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf, "HF_HUB_ETAG_TIMEOUT", 1, raising=False)
    with pytest.raises(ModelError, match="Cannot download openai/clip-vit-base-patch32"):
        registry.pull("clip-vit-b-32")  # the autouse fixture makes every socket connect fail


def test_weights_hash_is_cached_by_path_size_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "w.safetensors"
    f.write_bytes(b"abc")
    first = weights_hash([f])
    assert first == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    import hashlib

    with monkeypatch.context() as m:
        m.setattr(hashlib, "sha256", None)  # a cache hit must not hash again
        assert file_sha256(f) == first.removeprefix("sha256:")
    f.write_bytes(b"abcd")
    assert weights_hash([f]) != first


def test_cli_help_and_registry_import_no_torch() -> None:
    code = "import micview.ml.registry, micview.cli; micview.cli.build_parser().format_help(); import sys; " \
           "print(sorted(m for m in ('torch', 'transformers', 'open_clip', 'timm') if m in sys.modules))"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
