"""Search through models: image → similar images, text → images, filters, and the CLI commands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from micview.cli import main
from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.embedder import Embedder
from micview.ml.embedding import embed_project
from micview.ml.errors import ModelError
from micview.ml.preprocess import load_square
from micview.ml.registry import load_embedder
from micview.ml.search import search_text, similar_images


def names(project: Project, ids: np.ndarray) -> list[str]:
    return [project.images.get(int(i)).name for i in ids]


@pytest.fixture
def embedded(project: Project, effnet: Embedder) -> Project:
    run_task(embed_project(project, "effnet-lite0", embedder=effnet, workers=2))
    return project


def test_copies_rank_first_for_similar_images(embedded: Project, effnet: Embedder) -> None:
    hits = similar_images(embedded, "pattern_00.png", k=4, embedder=effnet)
    found = names(embedded, hits.ids)
    assert "pattern_00.png" not in found  # the query itself is left out
    assert found[:2] == ["copy_of_00.png", "pattern_00_q90.jpg"]
    assert hits.scores[0] == pytest.approx(1.0, abs=2e-3)
    assert hits.scores[1] > 0.9 > hits.scores[2]


def test_similar_to_a_file_outside_the_project(embedded: Project, effnet: Embedder, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes((embedded.root / "images" / "pattern_07.png").read_bytes())
    hits = similar_images(embedded, str(outside), k=1, embedder=effnet)
    assert names(embedded, hits.ids) == ["pattern_07.png"]


def test_filters_restrict_results(embedded: Project, effnet: Embedder) -> None:
    allowed = {r.id for r in embedded.images.all() if r.name.startswith("pattern_0") and r.name.endswith(".png")}
    hits = similar_images(embedded, "pattern_00.png", k=20, allowed=allowed, embedder=effnet)
    assert set(hits.ids.tolist()) <= allowed and len(hits) == len(allowed) - 1


@pytest.mark.parametrize("model_id", ["tiny-oc", "tiny-siglip"])
def test_text_search_agrees_with_direct_similarity(project: Project, tiny: dict[str, Path], model_id: str) -> None:
    run_task(embed_project(project, model_id, precision="float32", workers=2, store_dtype="float32"))
    model = load_embedder(model_id, precision="float32")
    query = "a micrograph of dendrites"
    hits = search_text(project, query, model_id, k=50, embedder=model)
    t = model.encode_text([query])[0]
    rows = [project.images.get(int(i)) for i in hits.ids]
    direct = np.array([model.encode_pixels(load_square(project.resolve(r.path), 32)[None])[0] @ t for r in rows])
    assert np.allclose(hits.scores, direct, atol=1e-5)
    assert np.all(np.diff(direct) <= 1e-6)  # the ranking is the direct similarity's ranking
    assert len(hits) == project.images.count()


def test_text_search_with_image_only_model_is_a_clear_error(embedded: Project) -> None:
    with pytest.raises(ModelError, match=r"effnet-lite0 is image-only.*models add PATH"):
        search_text(embedded, "cat")


def test_search_before_embedding_says_what_to_run(project: Project, tiny: dict[str, Path]) -> None:
    with pytest.raises(ModelError, match=r"micview embed .* --model tiny-oc"):
        search_text(project, "cat", "tiny-oc")


def test_cli_embed_search_similar_models(
    project: Project, tiny: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(project.path)
    assert main(["embed", path, "--model", "tiny-oc", "--device", "cpu", "--batch-size", "4", "-q"]) == 0
    assert "tiny-oc: 13 embedded on cpu" in capsys.readouterr().out
    assert main(["search", path, "dendrites", "--model", "tiny-oc", "-k", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 3
    assert main(["similar", path, "pattern_00.png", "--model", "tiny-oc", "-k", "2"]) == 0
    assert "copy_of_00.png" in capsys.readouterr().out.splitlines()[0]
    assert main(["similar", path, "pattern_00.png", "--model", "tiny-oc", "--folder", "nowhere"]) == 1
    assert "under the folder 'nowhere'" in capsys.readouterr().err  # a typo is told, not "No images match"
    assert main(["search", path, "dendrites"]) == 1
    assert "effnet-lite0 is image-only" in capsys.readouterr().err
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "tiny-oc" in listing and "effnet-lite0" in listing
    assert main(["models", "pull", "siglip-b16-224"]) == 1
    assert "offline" in capsys.readouterr().err


def test_cli_models_add(tiny_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "add", str(tiny_dirs["tiny-siglip"]), "--id", "my-siglip"]) == 0
    assert "Registered 'my-siglip' (transformers, 32-d)" in capsys.readouterr().out
    assert main(["models", "add", "/no/such/folder"]) == 1


def test_approximate_index_from_the_project_and_incremental_refresh(embedded: Project, effnet: Embedder) -> None:
    from micview.ml.ann import sidecar_path
    from micview.ml.search import load_index, refresh_index

    exact = load_index(embedded, "effnet-lite0", approximate=False)
    index = load_index(embedded, "effnet-lite0", approximate=True)
    assert index.approximate is not None and sidecar_path(embedded.path, "effnet-lite0").is_file()
    query = exact.vector(int(exact.ids[0]))
    assert set(index.search(query, 5).ids) == set(exact.search(query, 5).ids)
    # an index older than the project: two images embedded since, one image no longer readable
    late = exact.ids[:2]
    index.remove(late)
    gone = int(exact.ids[-1])
    with embedded.transaction() as con:
        con.execute("UPDATE images SET status = 'missing' WHERE id = ?", (gone,))
    assert refresh_index(embedded, "effnet-lite0", index) == (2, 1)
    assert set(index.ids.tolist()) == set(exact.ids.tolist()) - {gone}
    assert np.allclose(index.vector(int(late[0])), exact.vector(int(late[0])), atol=1e-6)
    assert refresh_index(embedded, "effnet-lite0", index) == (0, 0)


def test_load_index_is_reused_and_follows_the_project(embedded: Project) -> None:
    from micview.ml.search import load_index

    first = load_index(embedded, "effnet-lite0")
    assert load_index(embedded, "effnet-lite0") is first  # reused, not re-read
    row = embedded.images.get(int(first.ids[0]))
    # the file changed: a new content hash with its own vector replaces the image's row on the next call
    new_hash = "0" * 32
    vector = np.random.default_rng(0).normal(size=(1, first.dim)).astype(np.float32)
    embedded.embeddings.put("effnet-lite0", [new_hash], vector)
    with embedded.transaction() as con:
        con.execute("UPDATE images SET content_hash = ? WHERE id = ?", (new_hash, row.id))
    again = load_index(embedded, "effnet-lite0")
    assert again is first and len(again) == len(first)
    assert np.allclose(again.vector(row.id), vector[0] / np.linalg.norm(vector), atol=1e-3)
    assert load_index(embedded, "effnet-lite0", reuse=False) is not first
