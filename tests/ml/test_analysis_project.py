"""Analysis and quality on a project, as a user runs them: the prompt path with a tiny random CLIP model,
the image side and duplicates with the real default model, the stored runs, the files, and the messages
for what a user can get wrong."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from micview.cli import main
from micview.core.quality import load_quality
from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.analysis import analyse, read_groups
from micview.ml.analysis.report import write_analysis
from micview.ml.embedding import embed_project
from micview.ml.quality import quality_task

SEED_LAYOUT = {"experiment_name": "Pattern_Analysis", "prompt_pairs": [
    {"pair_id": 1, "striped": "a striped pattern", "blobby": "round blobs"},
    {"pair_id": 2, "striped": "parallel lines", "blobby": "a spotted texture"},
    {"pair_id": 3, "striped": "a grating", "blobby": "soft round spots"}]}  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def groups_file(tmp_path: Path) -> Path:
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(SEED_LAYOUT))
    return path


def names(project: Project) -> dict[int, str]:
    return {r.id: r.name for r in project.images.all()}


def test_prompt_groups_with_a_tiny_clip(
    project: Project, tiny: dict[str, Path], groups_file: Path, tmp_path: Path
) -> None:
    run_task(embed_project(project, "tiny-oc", workers=1))
    project.labels.set([r.id for r in project.images.all()][:6], "kind", "striped")
    project.labels.set([r.id for r in project.images.all()][6:], "kind", "blobby")
    from micview.ml.classify import task_view

    r = run_task(analyse(project, "tiny-oc", view=task_view(project, "kind"), groups=read_groups(groups_file)))
    c = r.concept
    assert c is not None and c.groups == ["striped", "blobby"] and c.prompt_sims.shape == (len(r.image_ids), 6)
    assert sum(c.counts().values()) == len(r.image_ids) == project.images.count(status="ok")
    assert c.pair_margins is not None and c.pair_margins.shape == (len(r.image_ids), 3)
    assert np.allclose(c.margin, c.group_sims[:, 0] - c.group_sims[:, 1], atol=1e-6)
    assert c.text_tsne is not None and c.prompt_silhouette is not None  # 6 prompts: t-SNE runs
    assert c.nearest_prompt is not None and c.nearest_prompt["images"] == len(r.image_ids)  # labels = group names
    assert r.image_side is not None and sorted(r.image_side.classes) == ["blobby", "striped"]
    paths = write_analysis(project, r, tmp_path / "out")
    figures = {"similarity_distributions", "pair_margins", "text_similarity_matrix", "text_pca", "text_tsne",
               "image_similarity_matrix", "class_neighbours"}  # fmt: skip
    assert figures <= set(paths) and all(p.stat().st_size > 1000 for p in paths.values())
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["concept"]["prefer"] == c.counts() and data["model"] == "tiny-oc"
    assert [row["margin"] for row in data["per_image"]] == pytest.approx(c.margin.tolist(), abs=1e-5)
    assert data["concept"]["pairs"][0]["pair_id"] == "1" and data["prompt_groups"]["name"] == "Pattern_Analysis"
    page = paths["html"].read_text(encoding="utf-8")
    assert all(f'src="{p.name}"' in page for k, p in paths.items() if k not in ("json", "html"))
    run_info = project.runs.get(r.run_id or 0)
    assert run_info.kind == "analysis" and run_info.params["prompt_groups"]["groups"]["blobby"][0] == "round blobs"
    assert np.array_equal(project.runs.load_array(run_info.id, "margin"), c.margin)


def test_quality_with_the_default_model(project: Project) -> None:
    run_task(embed_project(project, "effnet-lite0", workers=1))
    r = run_task(quality_task(project, "effnet-lite0"))
    by_name = {names(project)[int(i)]: k for k, i in enumerate(r.image_ids)}
    g = r.columns["duplicate_group"]
    # byte-identical, re-encoded, and the 16-bit TIFF with its 8-bit rendering: three groups
    assert g[by_name["copy_of_00.png"]] == g[by_name["pattern_00.png"]] == g[by_name["pattern_00_q90.jpg"]] >= 0
    assert g[by_name["gray16.tif"]] == g[by_name["gray16_as8.png"]] >= 0
    others = [
        k for n, k in by_name.items() if n.startswith("pattern_") and n not in ("pattern_00.png", "pattern_00_q90.jpg")
    ]
    assert (g[others] == -1).all()
    u = r.columns["uniqueness"]
    assert u[by_name["copy_of_00.png"]] < u[others].min() and u.max() == pytest.approx(1)
    assert np.isfinite(r.columns["blur"]).all() and len(r.cluster_names) == r.columns["cluster"].max() + 1
    back = load_quality(project, "effnet-lite0")
    assert back is not None and back.run_id == r.run_id and back.params["neighbours"] == "exact"


def test_cli_quality_and_analyse(project: Project, tiny: dict[str, Path], groups_file: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = project.path
    project.close()
    code, out, err = run(capsys, "quality", path, "--model", "effnet-lite0", "--out", tmp_path / "q.csv", "-q")
    assert code == 0, err
    assert "near duplicates: 5 images in 2 groups" in out
    rows = list(csv.DictReader((tmp_path / "q.csv").open(encoding="utf-8-sig")))
    copy = next(row for row in rows if row["file"].endswith("copy_of_00.png"))
    assert copy["near_duplicate_of"].endswith(("pattern_00.png", "pattern_00_q90.jpg")) and copy["cluster"]
    code, out, err = run(capsys, "analyse", path, "--model", "tiny-oc", "--groups", groups_file, "--out",
                         tmp_path / "rep", "-q")  # fmt: skip
    assert code == 0, err
    assert "prefer: striped" in out and (tmp_path / "rep" / "report.html").is_file()
    code, out, err = run(capsys, "analyze", path, "--model", "effnet-lite0", "--out", tmp_path / "rep2", "-q")
    assert code == 0, err  # image-only model, no labels: the similarity matrix by cluster, nothing else
    assert (tmp_path / "rep2" / "image_similarity_matrix.png").is_file()
    code, out, err = run(capsys, "analyse", path, "--model", "effnet-lite0", "--out", tmp_path / "rep3", "-q")
    assert code == 0 and "no text tower" in out  # the groups saved by the earlier run, but no text tower


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["quality", "{p}", "--task", "nothing", "--out", "{t}/q.csv"], "Task 'nothing' has no labels"),
        (["quality", "{p}", "--out", "{t}/no/such/folder/q.csv"], "does not exist"),
        (["analyse", "{p}", "--groups", "{t}/missing.json", "--out", "{t}/r"], "no such file"),
        (["analyse", "{p}", "--out", "{t}/file.txt"], "is a file"),
        (["analyse", "{t}/none.micview", "--out", "{t}/r"], "no such project file"),
    ],
)
def test_mistakes_are_messages(project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               args: list[str], message: str) -> None:  # fmt: skip
    (tmp_path / "file.txt").write_text("x")
    path = project.path
    project.close()
    code, _, err = run(capsys, *[a.format(p=path, t=tmp_path) for a in args])
    assert code == 1 and message in err and "Traceback" not in err


def test_an_empty_project_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Project.create(tmp_path / "e.micview").close()
    code, _, err = run(capsys, "quality", tmp_path / "e.micview", "--out", tmp_path / "q.csv")
    assert code == 1 and "micview add" in err
