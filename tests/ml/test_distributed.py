"""Embedding on a Dask LocalCluster: same vectors as in-process, a killed worker, a cancelled client, errors."""

from __future__ import annotations

import os
import shutil
import signal
import socket
from pathlib import Path

import numpy as np
import pytest

from micview.core.importer import add_folder
from micview.core.store import Project
from micview.core.tasks import Progress, run_task
from micview.ml.distributed import ClusterError, cluster, open_client
from micview.ml.distributed.embed import embed_project_dask
from micview.ml.embedding import embed_project

pytestmark = pytest.mark.slow  # each test starts worker processes that import torch and load the model
MODEL = "effnet-lite0"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As tests/ml/conftest.py, but the scheduler and workers talk over loopback TCP: allow only that."""
    monkeypatch.setenv("MICVIEW_CONFIG_DIR", str(tmp_path / "config"))
    real = socket.socket.connect

    def loopback_only(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family == socket.AF_UNIX or host in {"127.0.0.1", "localhost", "::1"}:
            return real(self, address)
        raise AssertionError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@pytest.fixture
def micrographs(shared_data: Path, tmp_path: Path) -> Project:
    """Eight of the dev micrographs (real JPEGs of different sizes), imported."""
    folder = tmp_path / "images"
    folder.mkdir()
    for f in sorted((shared_data / "miclib" / "images").glob("*.jpg"))[:8]:
        shutil.copy(f, folder / f.name)
    project = Project.create(tmp_path / "dask.micview")
    run_task(add_folder(project, folder, workers=1))
    yield project
    project.close()


def vectors(project: Project) -> tuple[list[str], np.ndarray]:
    return project.embeddings.matrix(MODEL)


def test_local_cluster_vectors_match_in_process_and_a_cancelled_run_resumes(micrographs: Project) -> None:
    run_task(embed_project(micrographs, MODEL, precision="float32", workers=1, store_dtype="float32"))
    hashes, local = vectors(micrographs)
    micrographs.embeddings.delete_model(MODEL)
    with open_client("local:1") as client:
        task = embed_project_dask(micrographs, client, MODEL, precision="float32", batch_size=2, store_dtype="float32")
        for step in task:
            if step.done >= 2:
                break
        task.close()  # what Ctrl-C does: committed batches stay, the batches still out are cancelled
        kept = len(vectors(micrographs)[0])
        assert 2 <= kept < 8
        summary = run_task(
            embed_project_dask(micrographs, client, MODEL, precision="float32", batch_size=3, store_dtype="float32")
        )
    assert summary.already == kept and summary.embedded == 8 - kept and not summary.failed
    remote_hashes, remote = vectors(micrographs)
    remote = remote[[remote_hashes.index(h) for h in hashes]]
    cosine = np.sum(local * remote, axis=1) / np.linalg.norm(local, axis=1) / np.linalg.norm(remote, axis=1)
    assert cosine.min() >= 0.999
    neighbours = lambda m: np.argsort(-(m @ m.T), axis=1)[:, 1:4]  # noqa: E731
    assert np.array_equal(neighbours(local), neighbours(remote))
    run = micrographs.runs.get(summary.run_id)
    assert run.status == "done" and run.params["executor"] == "dask" and run.weights_hash


def test_a_killed_worker_loses_only_its_batches(micrographs: Project) -> None:
    with open_client("local:2") as client:
        task = embed_project_dask(micrographs, client, MODEL, precision="float32", batch_size=1)
        killed = False
        try:
            while True:
                step = next(task)
                if isinstance(step, Progress) and step.done >= 1 and not killed:
                    pid = next(iter(client.run(os.getpid).values()))
                    os.kill(pid, signal.SIGKILL)  # the nanny restarts it; its batch is run again
                    killed = True
        except StopIteration as stop:
            summary = stop.value
    assert killed and summary.embedded == 8 and not summary.failed
    assert len(vectors(micrographs)[0]) == 8


def test_cluster_spec_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cluster.parse_local("local:3") == 3 and cluster.parse_local("tcp://h:8786") is None
    for bad in ("local:0", "local:x"):
        with pytest.raises(ClusterError, match="local:N"):
            cluster.parse_local(bad)
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ClusterError, match="Cannot reach the Dask scheduler"), open_client("tcp://127.0.0.1:9"):
        pass


def test_dask_reader_imports_like_the_local_reader(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader add_folder would use with --dask: same records and thumbnails as the in-process reader."""
    from micview.core import importer
    from micview.ml.distributed.reading import dask_reader

    folder = tmp_path / "images"
    folder.mkdir()
    for f in sorted((shared_data / "miclib" / "images").glob("*.jpg"))[:5]:
        shutil.copy(f, folder / f.name)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with Project.create(tmp_path / "local.micview") as local:
        run_task(add_folder(local, folder, workers=1))
        expected = {r.name: (r.status, r.content_hash, r.width) for r in local.images.all()}
    with open_client("local:1") as client, Project.create(tmp_path / "dask.micview") as remote:
        monkeypatch.setattr(importer, "_read_many", dask_reader(client, batch=2))
        summary = run_task(add_folder(remote, folder))
        got = {r.name: (r.status, r.content_hash, r.width) for r in remote.images.all()}
        thumbs = [remote.images.thumbnail(r.id) for r in remote.images.all(status="ok")]
    assert got == expected and expected["broken.jpg"][0] == "error" and summary.added == 6
    assert all(t is not None for t in thumbs)


def test_cli_add_and_embed_with_dask(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from micview.cli import main

    folder = tmp_path / "images"
    folder.mkdir()
    for f in sorted((shared_data / "miclib" / "images").glob("*.jpg"))[:3]:
        shutil.copy(f, folder / f.name)
    path = str(tmp_path / "cli.micview")
    assert main(["new", path]) == 0
    assert main(["add", path, str(folder), "--dask", "local:1", "-q"]) == 0
    assert main(["embed", path, "--dask", "local:1", "-q"]) == 0
    assert "3 embedded" in capsys.readouterr().out
    with Project.open(Path(path)) as project:
        assert len(project.images.all(status="ok")) == 3 and len(project.embeddings.matrix(MODEL)[0]) == 3
    assert main(["embed", path, "--dask", "local:0"]) == 1


def test_whole_image_features_on_dask_equal_in_process(micrographs: Project) -> None:
    """A model that reads its own images (+native: whole images of different sizes) is fed the same on a worker."""
    model_id = "effnet-lite0+native"
    run_task(embed_project(micrographs, model_id, precision="float32", workers=1, store_dtype="float32"))
    hashes, local = micrographs.embeddings.matrix(model_id)
    micrographs.embeddings.delete_model(model_id)
    with open_client("local:1") as client:
        summary = run_task(
            embed_project_dask(micrographs, client, model_id, precision="float32", batch_size=3, store_dtype="float32")
        )
    assert summary.embedded == 8 and not summary.failed
    remote_hashes, remote = micrographs.embeddings.matrix(model_id)
    remote = remote[[remote_hashes.index(h) for h in hashes]]
    cosine = np.sum(local * remote, axis=1) / np.linalg.norm(local, axis=1) / np.linalg.norm(remote, axis=1)
    assert cosine.min() >= 0.999
