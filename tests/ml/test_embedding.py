"""Embedding a project: dedup by content, resume after cancel, failures, OOM halving, 16-bit via the viewer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.embedding import EmbedSummary, embed_project, encode_adaptive, todo_rows
from micview.ml.registry import load_embedder


def n_vectors(project: Project, model_id: str) -> int:
    return len(project.embeddings.matrix(model_id)[0])


def n_unique(project: Project) -> int:
    return len({r.content_hash for r in project.images.all(status="ok")})


def test_embeds_each_content_once_and_records_recipe(project: Project, tiny: dict[str, Path]) -> None:
    s = run_task(embed_project(project, "tiny-oc", batch_size=4, workers=2))
    unique = n_unique(project)
    assert unique == project.images.count() - 1  # copy_of_00.png has pattern_00.png's bytes
    assert (s.embedded, s.already, s.failed) == (unique, 0, [])
    assert n_vectors(project, "tiny-oc") == unique
    ids, mat = project.embeddings.for_images("tiny-oc")
    assert len(ids) == project.images.count() and mat.shape[1] == 24  # both copies get the shared vector
    run = project.runs.get(s.run_id or 0)
    assert (run.kind, run.status, run.model_id) == ("embedding", "done", "tiny-oc")
    assert run.weights_hash and run.weights_hash.startswith("sha256:")
    assert run.params["preprocess"]["aspect"] == "centre-crop" and run.params["batch_size"] == 4
    again = run_task(embed_project(project, "tiny-oc"))
    assert (again.embedded, again.already, again.run_id) == (0, unique, None)  # nothing loaded, nothing run


def test_resume_after_cancel(project: Project, tiny: dict[str, Path]) -> None:
    task = embed_project(project, "tiny-clip", batch_size=3, workers=2)
    for progress in task:
        if progress.done:  # the first batch is committed before its progress is reported
            break
    task.close()
    assert n_vectors(project, "tiny-clip") == 3
    cancelled = [r for r in project.runs.all("embedding") if r.model_id == "tiny-clip"]
    assert [r.status for r in cancelled] == ["cancelled"]
    rest = run_task(embed_project(project, "tiny-clip", batch_size=3))
    assert (rest.embedded, rest.already) == (n_unique(project) - 3, 3)
    assert n_vectors(project, "tiny-clip") == n_unique(project)


def test_unreadable_file_is_reported_and_retried(project: Project, tiny: dict[str, Path]) -> None:
    victim = project.images.by_path(project.root / "images" / "pattern_03.png")
    assert victim is not None
    path = project.resolve(victim.path)
    original = path.read_bytes()
    path.write_bytes(b"not a png")
    s = run_task(embed_project(project, "tiny-oc", workers=2))
    assert [p for p, _ in s.failed] == [victim.path] and s.embedded == n_unique(project) - 1
    path.write_bytes(original)
    assert run_task(embed_project(project, "tiny-oc")).embedded == 1


def test_out_of_memory_halves_the_batch(tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_embedder("tiny-oc", device="cpu", precision="float32")
    real = model.encode_pixels

    def limited(pixels: np.ndarray) -> np.ndarray:
        if len(pixels) > 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(pixels)

    monkeypatch.setattr(model, "encode_pixels", limited)
    x = np.random.default_rng(0).integers(0, 256, (10, 32, 32, 3), dtype=np.uint8)
    summary = EmbedSummary("tiny-oc", batch_size=10)
    out = encode_adaptive(model, x, summary)
    assert out.shape == (10, 24) and summary.batch_size <= 3
    assert np.allclose(out, real(x), atol=1e-5)
    monkeypatch.setattr(model, "encode_pixels", lambda p: (_ for _ in ()).throw(RuntimeError("shape mismatch")))
    with pytest.raises(RuntimeError, match="shape mismatch"):  # other errors are not mistaken for OOM
        encode_adaptive(model, x, summary)


def test_16_bit_data_is_embedded_as_the_viewer_shows_it(project: Project, effnet: object) -> None:
    run_task(embed_project(project, "effnet-lite0", embedder=effnet, workers=1))  # type: ignore[arg-type]
    ids, mat = project.embeddings.for_images("effnet-lite0")
    row = {project.images.get(int(i)).name: v for i, v in zip(ids, mat, strict=True)}
    # gray16.tif spans 1000..1200 of 65535; unstretched it would be a black image
    assert float(row["gray16.tif"] @ row["gray16_as8.png"]) > 0.99
    assert float(row["gray16.tif"] @ row["pattern_05.png"]) < 0.95


def test_todo_rows_skips_errors_and_duplicates(project: Project) -> None:
    rows, already = todo_rows(project, "any-model")
    assert already == 0 and len(rows) == n_unique(project)
    assert len({r.content_hash for r in rows}) == len(rows)
