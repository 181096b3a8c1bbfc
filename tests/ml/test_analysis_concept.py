"""Concept analysis and the image side on vectors placed by hand, so every number is known; the prompt-group
file layouts (the BiomedCLIP scripts' paired JSON imports as is) and their storage in a project."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from micview.core.store import Project
from micview.ml.analysis import (
    PromptGroupError,
    PromptGroups,
    concept_analysis,
    image_side,
    load_groups,
    read_groups,
    save_groups,
    saved_group_names,
    similarity_matrix,
)


def unit(*v: float) -> np.ndarray:
    a = np.asarray(v, np.float32)
    return a / np.linalg.norm(a)


# Group A's prompts lie at e1 and e1 tilted towards e3; group B's mirror them on e2.
A1, A2, B1, B2 = unit(1, 0, 0), unit(1, 0, 0.2), unit(0, 1, 0), unit(0, 1, 0.2)
TEXTS = np.stack([A1, A2, B1, B2])
C = 1 / np.sqrt(1.04)  # cosine between a prompt and its tilted partner


def paired() -> PromptGroups:
    return PromptGroups.from_dict({"experiment_name": "toy", "prompt_pairs": [
        {"pair_id": 1, "A": "an a", "B": "a b"}, {"pair_id": 2, "A": "another a", "B": "another b"}]})  # fmt: skip


def test_margins_preferences_and_pairs_by_hand() -> None:
    images = np.stack([unit(1, 0, 0), unit(1, 2, 0), unit(0, 1, 0)])
    r = concept_analysis(paired(), TEXTS, np.array([10, 11, 12]), images, ["a", "B", "A"])
    # image 0 = e1: A sims (1, C), B sims (0, 0); image 2 mirrors it
    assert r.group_sims[0].tolist() == pytest.approx([(1 + C) / 2, 0.0], abs=1e-6)
    x = 1 / np.sqrt(5)  # image 1 = (1, 2, 0) / sqrt 5
    assert r.group_sims[1].tolist() == pytest.approx([(x + x * C) / 2, (2 * x + 2 * x * C) / 2], abs=1e-6)
    assert r.margin.tolist() == pytest.approx([(1 + C) / 2, -(x + x * C) / 2, -(1 + C) / 2], abs=1e-6)
    assert r.counts() == {"A": 1, "B": 2} and "'A' − similarity to 'B'" in r.margin_meaning
    assert r.pair_ids == ["1", "2"] and r.pair_margins is not None
    assert r.pair_margins[0].tolist() == pytest.approx([1.0, C], abs=1e-6)  # image 0: pair 1 = A1 − B1
    # labels name the groups (case-insensitively): images 0, 1 right, 2 wrong
    assert r.nearest_prompt is not None and r.nearest_prompt["group_accuracy"] == pytest.approx(2 / 3)
    assert r.nearest_prompt["group_balanced_accuracy"] == pytest.approx(0.75)
    assert r.label_preference == {"A": {"A": 0, "B": 1}, "B": {"A": 0, "B": 1}, "a": {"A": 1, "B": 0}}


def test_prompt_silhouette_and_text_similarity_by_hand() -> None:
    r = concept_analysis(paired(), TEXTS, np.array([1]), unit(1, 1, 0)[None])
    d_tilt, d_cross_tilted = 1 - C, 1 - 0.04 / 1.04  # A2·B2 = 0.04 / 1.04; every other cross pair is 0
    s1 = 1 - d_tilt  # A1: a = d_tilt, b = mean(1, 1) = 1
    b2 = (1 + d_cross_tilted) / 2  # A2: b = mean(d(A2, B1) = 1, d(A2, B2))
    assert r.prompt_silhouette == pytest.approx((s1 + (b2 - d_tilt) / b2) / 2, abs=1e-5)
    within, between = C, 0.04 / 1.04 / 4
    assert r.text_similarity["within_groups"] == pytest.approx(within, abs=1e-6)
    assert r.text_similarity["between_groups"] == pytest.approx(between, abs=1e-6)
    assert r.text_similarity["all_pairs"] == pytest.approx((2 * within + 4 * between) / 6, abs=1e-6)
    assert r.text_tsne is None and r.text_pca.shape == (4, 2)  # t-SNE needs 5 prompts or more
    assert r.nearest_prompt is None and r.label_preference == {}


def test_three_groups_margin_is_best_minus_second() -> None:
    groups = PromptGroups("three", {"x": ["x"], "y": ["y"], "z": ["z"]})
    texts = np.eye(3, dtype=np.float32)
    r = concept_analysis(groups, texts, np.array([1]), unit(3, 2, 1)[None])
    n = np.sqrt(14)
    assert r.preferred.tolist() == [0] and r.margin.tolist() == pytest.approx([1 / n], abs=1e-6)


def test_the_seed_layout_imports_as_is_and_other_layouts(tmp_path: Path) -> None:
    seed = {"experiment_name": "Toy_Analysis", "prompt_pairs": [
        {"pair_id": 1, "tumor": "a lesion", "healthy": "normal tissue"},
        {"pair_id": 2, "tumor": "an irregular mass", "healthy": "regular texture"}]}  # fmt: skip
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    g = read_groups(tmp_path / "seed.json")
    assert g.name == "Toy_Analysis" and g.names == ["tumor", "healthy"] and g.paired
    assert g.groups["healthy"] == ["normal tissue", "regular texture"] and g.pair_ids == ["1", "2"]
    assert PromptGroups.from_dict(g.to_dict()) == g
    plain = PromptGroups.from_dict({"crystals": ["needles", "plates"], "precipitate": "brown granular"})
    assert plain.groups == {"crystals": ["needles", "plates"], "precipitate": ["brown granular"]}
    assert plain.prompts() == (["needles", "plates", "brown granular"], [0, 0, 1])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a readable JSON"),
        ('{"only": ["one group"]}', "at least two groups"),
        ('{"a": ["x"], "b": []}', "b have no prompts"),
        ('{"a": ["x"], "b": [""]}', "non-empty prompt"),
        ('{"prompt_pairs": [{"pair_id": 1, "a": "x", "b": "y"}, {"pair_id": 2, "a": "x", "c": "y"}]}', "pair 2"),
        ('["a", "b"]', "expected a JSON object"),
    ],
)
def test_bad_group_files_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "g.json"
    path.write_text(content)
    with pytest.raises(PromptGroupError, match=message):
        read_groups(path)
    with pytest.raises(PromptGroupError, match="no such file"):
        read_groups(tmp_path / "missing.json")


def test_groups_are_saved_in_the_project(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.micview") as p:
        assert load_groups(p) is None
        save_groups(p, paired())
        save_groups(p, PromptGroups("other", {"x": ["x"], "y": ["y"]}))
    with Project.open(tmp_path / "p.micview") as p:
        assert saved_group_names(p) == ["other", "toy"]
        assert load_groups(p) == PromptGroups("other", {"x": ["x"], "y": ["y"]})  # the last saved
        assert load_groups(p, "toy") == paired()


def test_image_side_by_hand() -> None:
    # X: four images at e1; Y: four at e2; Z: two at e1 tilted: Z's neighbours are X images
    X = np.stack([unit(1, 0, 0)] * 4 + [unit(0, 1, 0)] * 4 + [unit(1, 0, 0.3)] * 2)
    labels = ["X"] * 4 + ["Y"] * 4 + ["Z"] * 2
    side = image_side(np.arange(10) + 100, X, labels)
    assert side is not None and side.classes == ["X", "Y", "Z"] and side.spread["X"] == pytest.approx(0, abs=1e-6)
    # each Z image: 1 Z neighbour + 4 X neighbours among its 5 -> 80 % X
    assert side.neighbour_share[2].tolist() == pytest.approx([0.8, 0.0, 0.2])
    top = side.confusable[0]
    assert (top.a, top.b) == ("X", "Z") and top.examples and all(a < 104 <= 108 <= b for a, b, _ in top.examples)
    assert side.label_silhouette is not None and side.centre_sims[0, 1] == pytest.approx(0, abs=1e-6)
    assert image_side(np.arange(3), X[:3], ["X", "X", None]) is None  # one class: nothing to compare


def test_similarity_matrix_is_ordered_and_sampled_above_its_size() -> None:
    rng = np.random.default_rng(0)
    unit_rows = rng.normal(size=(50, 4)).astype(np.float32)
    unit_rows /= np.linalg.norm(unit_rows, axis=1, keepdims=True)
    groups = ["b"] * 30 + ["a"] * 20
    m = similarity_matrix(np.arange(50), unit_rows, groups, "label", size=10)
    assert m.sampled and m.values.shape == (10, 10) and m.total == 50
    assert m.groups == sorted(m.groups) and m.boundaries() == [("a", 0, 4), ("b", 4, 10)]
    assert "sample of 10 of 50" in m.caption()
    full = similarity_matrix(np.arange(50), unit_rows, groups, "label")
    assert not full.sampled and np.allclose(np.diag(full.values), 1, atol=1e-5)
