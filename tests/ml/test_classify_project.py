"""Classification on a project: zero-shot plumbing with a tiny random CLIP, few-shot with the real default
model, groups, stored recipe, export columns, evaluation, feature variants and the shared miclib data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from micview.core.csv_io import export_csv
from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.classify import (
    NoLabelsError,
    PromptSet,
    classify,
    evaluate_task,
    load_prompt_set,
    prompt_set_for,
    suggest_for_task,
    task_view,
)
from micview.ml.classify.prompts import ClassPrompts, class_text_embeddings
from micview.ml.classify.zeroshot import zero_shot
from micview.ml.embedding import embed_project
from micview.ml.errors import NoTextTowerError
from micview.ml.features import load_feature_embedder, parse_feature_id
from micview.ml.registry import load_embedder


def ids_by_name(project: Project) -> dict[str, int]:
    return {r.name: r.id for r in project.images.all()}


def test_shipped_prompt_sets_load_and_ensemble() -> None:
    for name in ("technique", "material", "crystallization", "surface_defects"):
        ps = load_prompt_set(name)
        assert len(ps.class_names) >= 4 and all(len(ps.texts(c)) >= 3 for c in ps.class_names)
    assert load_prompt_set("crystallization").class_names == ["clear", "crystals", "precipitate", "other"]
    assert "a SEM micrograph" in load_prompt_set("technique").texts("SEM")


def test_zero_shot_ranks_an_images_own_text_first(tiny: dict[str, Path]) -> None:
    model = load_embedder("tiny-oc", device="cpu", precision="float32")
    texts = ["a crack", "a hole", "a scratch on metal", "precipitate"]
    ps = PromptSet("t", ["{}"], {t: ClassPrompts([t]) for t in texts})
    images = model.encode_text(texts)  # "images" whose vectors are exactly each class's text vector
    classes, p = zero_shot(model, images, ps)
    assert classes == texts and (p.argmax(1) == np.arange(4)).all() and np.allclose(p.sum(1), 1)
    v = class_text_embeddings(model, load_prompt_set("technique"))
    assert v.shape == (5, 24) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)


def test_zero_shot_classify_stores_scores_and_recipe(project: Project, tiny: dict[str, Path]) -> None:
    run_task(embed_project(project, "tiny-oc", workers=1))
    r = run_task(classify(project, task_view(project, "technique"), "tiny-oc"))
    assert r.method == "zero-shot" and r.classes == ["optical", "SEM", "TEM", "AFM", "other"]
    preds = project.labels.current("technique", "model")
    assert len(preds) == project.images.count()
    one = next(iter(preds.values()))
    assert set(one.scores) == set(r.classes) and sum(one.scores.values()) == pytest.approx(1, abs=1e-4)
    assert one.score == max(one.scores.values()) and one.model_id == "tiny-oc"
    run = project.runs.get(r.run_id)
    assert run.kind == "classifier" and run.params["zero_shot"]["prompts"]["name"] == "technique"
    assert project.runs.load_array(r.run_id, "proba").shape == (project.images.count(), 5)


def test_zero_shot_and_labels_combine(project: Project, tiny: dict[str, Path]) -> None:
    run_task(embed_project(project, "tiny-oc", workers=1))
    ids = ids_by_name(project)
    project.labels.set_many("technique", {ids["pattern_00.png"]: "SEM", ids["pattern_01.png"]: "optical",
                                          ids["pattern_02.png"]: "SEM", ids["pattern_03.png"]: "optical"})  # fmt: skip
    r = run_task(classify(project, task_view(project, "technique"), "tiny-oc"))
    assert r.method.endswith("+zero-shot") and r.weight is not None and 0 <= r.weight <= 1
    assert r.classes == ["SEM", "optical"] and r.n_labels == 4  # the task's classes, not the prompt set's
    params = project.runs.get(r.run_id).params
    assert params["combine_weight"] == r.weight and params["few_shot"]["n_labels"] == 4


def test_image_only_model_needs_labels(project: Project, effnet: object) -> None:
    run_task(embed_project(project, "effnet-lite0", embedder=effnet, workers=1))  # type: ignore[arg-type]
    with pytest.raises(NoLabelsError, match="no text tower"):
        run_task(classify(project, task_view(project, "kind"), "effnet-lite0"))
    with pytest.raises(NoTextTowerError):
        zero_shot(effnet, np.zeros((1, 1280), np.float32), load_prompt_set("technique"))  # type: ignore[arg-type]


def test_few_shot_with_real_features_groups_export_and_evaluate(
    project: Project, effnet: object, tmp_path: Path
) -> None:
    run_task(embed_project(project, "effnet-lite0", embedder=effnet, workers=1))  # type: ignore[arg-type]
    ids = ids_by_name(project)
    fine = {"pattern_00.png": "stripes A", "pattern_01.png": "stripes B", "pattern_02.png": "stripes A",
            "gray16_as8.png": "gray", "pattern_03.png": "blobs"}  # fmt: skip
    project.labels.set_many("kind", {ids[n]: lab for n, lab in fine.items()})
    groups = {"stripes A": "stripes", "stripes B": "stripes", "blobs": "other", "gray": "other"}
    view = task_view(project, "kind", groups=groups)
    assert view.name == "kind_group" and project.labels.task("kind").groups == groups  # stored with the task
    r = run_task(classify(project, view, "effnet-lite0"))
    assert r.method.startswith("few-shot:") and r.classes == ["stripes", "other"] and r.n_labels == 5
    preds = project.labels.current("kind_group", "model")
    assert len(preds) == project.images.count()
    assert preds[ids["copy_of_00.png"]].label == "stripes" and preds[ids["gray16.tif"]].label == "other"
    # the same view is found again by name, with the stored groups
    assert task_view(project, "kind_group").groups == groups
    out = tmp_path / "labelled.csv"
    export_csv(project, out, tasks=["kind", "kind_group"])
    row = next(r for r in csv.DictReader(out.open(encoding="utf-8-sig")) if r["file"].endswith("pattern_00.png"))
    assert row["kind"] == "stripes A" and row["kind_group_pred"] == "stripes"
    assert float(row["kind_group_p_stripes"]) + float(row["kind_group_p_other"]) == pytest.approx(1, abs=1e-4)
    ev = evaluate_task(project, view, "kind", mode="stored")
    assert ev.n == 5 and ev.task == "kind_group" and ev.classes[0] in ("stripes", "other")
    found = suggest_for_task(project, view, "effnet-lite0", n=3)
    assert len(found) == 3 and not {s.image_id for s in found} & {ids[n] for n in fine}


def test_prompt_set_falls_back_to_class_names(project: Project) -> None:
    ps = prompt_set_for(project, "weird_task", ["alpha", "beta"])
    assert ps.class_names == ["alpha", "beta"] and "an image showing alpha" in ps.texts("alpha")
    assert prompt_set_for(project, "technique_group").name == "technique"


def test_feature_ids() -> None:
    assert parse_feature_id("effnet-lite0+texture")[1] == parse_feature_id("effnet-lite0+448px+texture")[1]
    base, opts = parse_feature_id("tiny-oc+64px+tta")
    assert base == "tiny-oc" and (opts.size, opts.tta, opts.texture) == (64, True, False)
    with pytest.raises(Exception, match="unknown feature option"):
        parse_feature_id("effnet-lite0+huge")


def test_tta_is_orientation_invariant(tiny: dict[str, Path]) -> None:
    model = load_feature_embedder("tiny-oc+32px+tta", device="cpu", precision="float32")
    x = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    a, b = model.encode_pixels(x), model.encode_pixels(np.ascontiguousarray(np.rot90(x, 1, axes=(1, 2))))
    assert np.allclose(a, b, atol=1e-5) and model.has_text and model.id == "tiny-oc+32px+tta"


@pytest.mark.slow
def test_texture_features_on_miclib_subset(shared_data: Path, tmp_path: Path) -> None:
    """20 real micrographs (5 per technique group): texture vectors separate them better than chance."""
    from micview.core.importer import add_folder
    from micview.ml.classify import cross_validate
    from micview.ml.classify.groups import shipped_groups
    from micview.ml.classify.service import labelled_rows, load_vectors

    groups = shipped_groups("technique")
    rows = list(csv.DictReader((shared_data / "miclib" / "manifest.csv").open(encoding="utf-8")))
    picked: dict[str, list[str]] = {}
    for r in rows:
        g = groups[r["technique"]]
        if g != "other" and len(picked.setdefault(g, [])) < 5:
            picked[g].append(r["file"])
    folder = tmp_path / "img"
    folder.mkdir()
    for files in picked.values():
        for f in files:
            (folder / f).write_bytes((shared_data / "miclib" / "images" / f).read_bytes())
    with Project.create(tmp_path / "m.micview") as p:
        run_task(add_folder(p, folder, workers=1))
        ids = ids_by_name(p)
        p.labels.set_many("technique_group", {ids[f]: g for g, fs in picked.items() for f in fs})
        model_id = "effnet-lite0+texture"
        run_task(embed_project(p, model_id, embedder=load_feature_embedder(model_id, precision="float32")))
        image_ids, X = load_vectors(p, model_id)
        assert X.shape == (20, 3968)
        r, y = labelled_rows(image_ids, p.labels.labels("technique_group"))
        assert cross_validate(X[r], y, folds=5).balanced_accuracy > 0.5  # chance is 0.25
