"""Installing models: download with progress, sha256 check and cancel (against a local stand-in for the hub),
offline and unreachable-hub messages, adding a folder with hashing, listing and removing."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from fake_hub import FakeHub

from micview.core.tasks import run_task
from micview.ml.errors import ModelError

_REAL_CONNECT = socket.socket.connect  # the autouse fixture refuses connections; the stand-in hub is local


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Network allowed to 127.0.0.1 only; small download chunks so progress and cancel show on small files."""
    import huggingface_hub.constants as hf

    def local_only(self: socket.socket, address: object) -> None:
        if not (isinstance(address, tuple) and address[0] == "127.0.0.1"):
            raise AssertionError(f"network access attempted: {address}")
        _REAL_CONNECT(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf, "DOWNLOAD_CHUNK_SIZE", 1 << 16)


def _drive(task):
    seen = []
    while True:
        try:
            seen.append(next(task))
        except StopIteration as stop:
            return stop.value, seen


def _files(size_mb: int = 3) -> dict[str, bytes]:
    return {"config.json": b'{"model_type": "x"}', "model.safetensors": os.urandom(size_mb << 20),
            "README.md": b"not needed", "flax_model.msgpack": b"not needed either"}  # fmt: skip


def test_download_checks_every_file_and_reports_progress_in_mb(online) -> None:
    from micview.ml.hub_download import download_task
    from micview.ml.registry import _hf_cached

    files = _files()
    with FakeHub(files, {"model.safetensors"}) as hub:
        folder, progress = _drive(download_task("lab/tiny", endpoint=hub.endpoint))
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert (folder / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert progress[-1].total == 3 and progress[-1].done == 3
    assert any("model.safetensors" in p.message for p in progress)
    assert _hf_cached("lab/tiny") == folder  # what `locate` finds from now on, offline


def test_a_damaged_download_is_deleted_and_refused(online) -> None:
    from micview.ml.hub_download import download_task
    from micview.ml.registry import _hf_cached

    with (FakeHub(_files(), {"model.safetensors"}, corrupt="model.safetensors") as hub,
          pytest.raises(ModelError, match="does not match the sha256 the hub publishes") as err):  # fmt: skip
        run_task(download_task("lab/tiny", endpoint=hub.endpoint))
    assert "download again" in str(err.value)
    assert _hf_cached("lab/tiny") is None or not (_hf_cached("lab/tiny") / "model.safetensors").exists()
    with FakeHub(_files(), set(), corrupt="config.json") as hub, pytest.raises(ModelError, match="git blob id"):
        run_task(download_task("lab/small", endpoint=hub.endpoint))


def test_cancel_stops_the_download_at_once(online) -> None:
    from micview.ml.hub_download import download_task

    with FakeHub(_files(8), {"model.safetensors"}, delay_s=0.05) as hub:
        task = download_task("lab/slow", endpoint=hub.endpoint)
        for p in task:
            if p.done >= 1:
                break
        closed = time.monotonic()
        task.close()
        assert p.done < 8
        while any(t.name == "micview-download" for t in threading.enumerate()):
            assert time.monotonic() - closed < 3, "the download thread kept going after the cancel"
            time.sleep(0.05)


def test_a_hub_that_never_answers_fails_within_the_timeout(online, monkeypatch: pytest.MonkeyPatch) -> None:
    import micview.ml.hub_download as hd

    monkeypatch.setattr(hd, "TIMEOUT_S", 1.0)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # accepts the connection, never answers: a firewall that swallows packets looks alike
    start = time.monotonic()
    with pytest.raises(ModelError, match="Check the internet connection"):
        run_task(hd.download_task("lab/x", endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}"))
    assert time.monotonic() - start < 10
    silent.close()


def test_pull_offline_says_at_once_what_to_run_on_a_connected_computer() -> None:
    from micview.ml.model_install import pull_task

    start = time.monotonic()
    with pytest.raises(ModelError) as err:
        run_task(pull_task("siglip-b16-224"))
    text = str(err.value)
    assert time.monotonic() - start < 2
    assert "offline mode is on" in text
    assert "micview models pull siglip-b16-224 --to siglip-base-patch16-224" in text
    assert "hf download google/siglip-base-patch16-224 --local-dir siglip-base-patch16-224" in text
    assert "micview models add siglip-base-patch16-224" in text and "Add folder" in text


def test_pull_without_a_connection_says_what_to_do(online, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hf

    from micview.ml.model_install import pull_task

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused, as with no network at all
    monkeypatch.setattr(hf, "ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(ModelError, match=r"(?s)Cannot download google/siglip.*ConnectError.*hf download"):
        run_task(pull_task("siglip-b16-224"))


def test_pull_into_a_folder_then_add_it_as_on_a_computer_without_internet(online, tiny_dirs, tmp_path) -> None:
    """``models pull ID --to FOLDER`` on the connected PC, copy, ``models add FOLDER`` here: a working model."""
    import shutil

    from micview.ml.hub_download import download_task
    from micview.ml.model_install import add_folder_task
    from micview.ml.registry import get_spec, load_embedder

    src = tiny_dirs["tiny-oc"]
    files = {p.name: p.read_bytes() for p in src.iterdir()}
    with FakeHub(files, {n for n in files if n.endswith(".safetensors")}) as hub:
        folder = run_task(download_task("lab/tiny-clip", local_dir=tmp_path / "tiny-clip", endpoint=hub.endpoint))
    copied = Path(shutil.copytree(folder, tmp_path / "usb" / "tiny-clip", ignore=shutil.ignore_patterns(".cache")))
    spec, progress = _drive(add_folder_task(copied))
    assert spec.id == "tiny-clip" and spec.family == "open_clip" and spec.has_text
    assert progress and progress[-1].message.startswith("Checking open_clip_model.safetensors")
    assert get_spec("tiny-clip").path == str(copied)
    assert load_embedder("tiny-clip", device="cpu").encode_text(["grain boundaries"]).shape == (1, 24)


def test_add_folder_refuses_what_is_not_a_model_before_hashing(tmp_path: Path) -> None:
    from micview.ml.model_install import add_folder_task

    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.safetensors").write_bytes(b"x")
    task = add_folder_task(tmp_path / "photos")
    with pytest.raises(ModelError, match="not a model folder micview recognises"):
        next(task)
    with pytest.raises(ModelError, match="no such folder"):
        next(add_folder_task(tmp_path / "gone"))


def test_add_folder_hashes_once_into_the_weights_cache(tiny_dirs, tmp_path: Path, monkeypatch) -> None:
    import hashlib
    import shutil

    from micview.ml.model_install import add_folder_task
    from micview.ml.weights import weights_hash

    folder = Path(shutil.copytree(tiny_dirs["tiny-oc"], tmp_path / "siglip-b16-224"))  # named like a built-in
    spec, progress = _drive(add_folder_task(folder))
    assert spec.id == "siglip-b16-224-local" and progress
    with monkeypatch.context() as m:
        m.setattr(hashlib, "sha256", None)  # cached: not hashed again
        assert weights_hash([folder / "open_clip_model.safetensors"]).startswith("sha256:")
    _, again = _drive(add_folder_task(folder, "again"))
    assert not again  # every digest cached: no hashing progress


def test_installed_lists_the_default_offline_and_remove_forgets_added_ones(tiny) -> None:
    from micview.ml import registry
    from micview.ml.model_install import installed, remove

    models = {m.spec.id: m for m in installed()}
    default = models["effnet-lite0"]
    assert default.offline and default.default and default.builtin and default.size_bytes > 1_000_000
    assert default.kind == "image only"
    assert not models["siglip-b16-224"].offline and models["siglip-b16-224"].size_bytes is None
    added = models["tiny-oc"]
    assert added.offline and not added.builtin and added.kind == "text + image" and added.size_bytes > 0
    assert remove("tiny-oc").path == str(tiny["tiny-oc"])
    assert "tiny-oc" not in {s.id for s in registry.all_models()} and tiny["tiny-oc"].is_dir()  # files stay
    with pytest.raises(ModelError, match="built in"):
        remove("effnet-lite0")
    with pytest.raises(ModelError, match="not added from a folder"):
        remove("tiny-oc")
