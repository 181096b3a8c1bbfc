"""Concept analysis: how images sit between named groups of prompts, and how the prompts sit among
themselves (the BiomedCLIP embedding-analysis scripts, for any number of groups and any CLIP-family model).

All from unit vectors: ``images`` (n × d) and ``texts`` (one row per prompt, same model). Per image: its
cosine similarity with every prompt, its similarity with each group (mean over the group's prompts), the
group it prefers and its margin (two groups: first − second, as the scripts' tumour − healthy; more groups:
best − second best); for paired files also each pair's margin. For the prompts: their similarity matrix,
PCA and t-SNE maps, the silhouette of the groups and the average similarity within and between groups. With
labels: how the images of each label prefer the groups, and the nearest-prompt accuracy where the labels are
the group names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from micview.ml.analysis.groups import PromptGroups
from micview.ml.analysis.stats import silhouette


@dataclass
class ConceptAnalysis:
    groups: list[str]
    prompts: list[str]
    prompt_group: np.ndarray  # (P,) group index of each prompt
    image_ids: np.ndarray  # (n,)
    prompt_sims: np.ndarray  # (n, P)
    group_sims: np.ndarray  # (n, G)
    preferred: np.ndarray  # (n,) group index
    margin: np.ndarray  # (n,)
    text_sims: np.ndarray  # (P, P)
    text_pca: np.ndarray  # (P, 2)
    text_tsne: np.ndarray | None  # (P, 2); None with fewer than 5 prompts
    prompt_silhouette: float | None
    text_similarity: dict[str, float | None]
    pair_ids: list[str] = field(default_factory=list)
    pair_margins: np.ndarray | None = None  # (n, pairs): sim(first group's prompt) − sim(second's)
    label_preference: dict[str, dict[str, int]] = field(default_factory=dict)
    nearest_prompt: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        """How many images prefer each group."""
        return {g: int((self.preferred == i).sum()) for i, g in enumerate(self.groups)}

    @property
    def margin_meaning(self) -> str:
        if len(self.groups) == 2:
            return f"similarity to '{self.groups[0]}' − similarity to '{self.groups[1]}'"
        return "similarity to the preferred group − to the next best"

    def summary(self) -> dict[str, Any]:
        """Every number except the per-image arrays (those are in :meth:`per_image`)."""
        out: dict[str, Any] = {
            "groups": {
                g: [p for p, o in zip(self.prompts, self.prompt_group, strict=True) if o == i]
                for i, g in enumerate(self.groups)
            },
            "images": len(self.image_ids),
            "prefer": self.counts(),
            "margin_meaning": self.margin_meaning,
            "margin": _describe(self.margin),
            "group_similarity": {
                g: _describe(self.prompt_sims[:, self.prompt_group == i].ravel()) for i, g in enumerate(self.groups)
            },
            "prompt_silhouette": self.prompt_silhouette,
            "text_similarity": self.text_similarity,
            "label_preference": self.label_preference,
            "nearest_prompt": self.nearest_prompt,
        }
        if self.pair_margins is not None:
            out["pairs"] = [
                {
                    "pair_id": p,
                    "margin": _describe(self.pair_margins[:, j]),
                    "prefer_first": int((self.pair_margins[:, j] > 0).sum()),
                }
                for j, p in enumerate(self.pair_ids)
            ]
        return out


def _describe(v: np.ndarray) -> dict[str, float | None]:
    if len(v) == 0:
        return {"mean": None, "std": None, "min": None, "median": None, "max": None}
    q = np.quantile(v, [0, 0.5, 1])
    return {
        "mean": round(float(v.mean()), 6),
        "std": round(float(v.std()), 6),
        "min": round(float(q[0]), 6),
        "median": round(float(q[1]), 6),
        "max": round(float(q[2]), 6),
    }


def text_similarity_stats(text_sims: np.ndarray, owner: np.ndarray) -> dict[str, float | None]:
    """Average cosine between distinct prompts: all pairs, pairs within a group, pairs across groups.

    (The scripts' "average text similarity" also averaged each prompt with itself; that is
    ``with_diagonal`` here.)"""
    n = len(owner)
    off = ~np.eye(n, dtype=bool)
    same = owner[:, None] == owner[None, :]

    def mean(mask: np.ndarray) -> float | None:
        return round(float(text_sims[mask].mean()), 6) if mask.any() else None

    return {
        "all_pairs": mean(off),
        "within_groups": mean(off & same),
        "between_groups": mean(~same),
        "with_diagonal": round(float(text_sims.mean()), 6) if n else None,
    }


def pca_2d(X: np.ndarray) -> np.ndarray:
    """First two principal components (zeros where there is less variance than that)."""
    centred = X - X.mean(0)
    if len(X) < 2:
        return np.zeros((len(X), 2), np.float32)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    out = np.zeros((len(X), 2), np.float32)
    m = min(2, len(s))
    out[:, :m] = u[:, :m] * s[:m]
    return out


def tsne_2d(X: np.ndarray, *, seed: int = 0) -> np.ndarray | None:
    """t-SNE (cosine, perplexity ≤ 30 and below a third of the prompts); ``None`` under 5 prompts."""
    if len(X) < 5:
        return None
    from sklearn.manifold import TSNE

    from micview.ml.quality.threads import one_thread

    perplexity = float(min(30.0, max(1.0, (len(X) - 1) / 3)))
    tsne = TSNE(2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed)
    with one_thread():  # a few dozen prompts: threads only wait on each other
        return np.asarray(tsne.fit_transform(X.astype(np.float32)), np.float32)


def concept_analysis(
    groups: PromptGroups,
    texts: np.ndarray,
    image_ids: np.ndarray,
    images: np.ndarray,
    labels: list[str | None] | None = None,
) -> ConceptAnalysis:
    """See the module docstring. ``texts``: unit rows in the order of ``groups.prompts()``."""
    prompts, owner_list = groups.prompts()
    owner = np.asarray(owner_list, np.int64)
    if len(texts) != len(prompts):
        raise ValueError(f"{len(texts)} text vectors for {len(prompts)} prompts")
    sims = (images @ texts.T).astype(np.float32)
    group_sims = np.stack([sims[:, owner == g].mean(1) for g in range(len(groups.groups))], 1)
    preferred = group_sims.argmax(1)
    top2 = -np.sort(-group_sims, axis=1)[:, :2]
    margin = group_sims[:, 0] - group_sims[:, 1] if group_sims.shape[1] == 2 else top2[:, 0] - top2[:, 1]
    text_sims = (texts @ texts.T).astype(np.float32)
    result = ConceptAnalysis(
        groups.names,
        prompts,
        owner,
        np.asarray(image_ids),
        sims,
        group_sims,
        preferred,
        margin.astype(np.float32),
        text_sims,
        pca_2d(texts),
        tsne_2d(texts),
        silhouette(texts, owner_list),
        text_similarity_stats(text_sims, owner),
    )
    if groups.paired and len(groups.groups) >= 2:
        result.pair_ids = list(groups.pair_ids)
        per = len(groups.pair_ids)
        first, second = sims[:, owner == 0][:, :per], sims[:, owner == 1][:, :per]
        result.pair_margins = (first - second).astype(np.float32)
    if labels is not None:
        _with_labels(result, labels)
    return result


def _with_labels(result: ConceptAnalysis, labels: list[str | None]) -> None:
    """Label × preferred-group counts, and nearest-prompt accuracy where labels name the groups."""
    table: dict[str, dict[str, int]] = {}
    for lab, g in zip(labels, result.preferred.tolist(), strict=True):
        if lab is not None:
            row = table.setdefault(lab, dict.fromkeys(result.groups, 0))
            row[result.groups[g]] += 1
    result.label_preference = dict(sorted(table.items()))
    by_name = {g.casefold(): i for i, g in enumerate(result.groups)}
    truth = np.array([by_name.get(lab.casefold(), -1) if lab is not None else -1 for lab in labels])
    rows = np.flatnonzero(truth >= 0)
    if len(rows) == 0:
        return
    nearest_prompt_group = result.prompt_group[result.prompt_sims[rows].argmax(1)]
    group_hit = result.preferred[rows] == truth[rows]
    per_group = {result.groups[g]: round(float(group_hit[truth[rows] == g].mean()), 6) for g in np.unique(truth[rows])}
    result.nearest_prompt = {
        "images": len(rows),
        "group_accuracy": round(float(group_hit.mean()), 6),
        "group_balanced_accuracy": round(float(np.mean(list(per_group.values()))), 6),
        "single_prompt_accuracy": round(float((nearest_prompt_group == truth[rows]).mean()), 6),
        "recall_per_group": per_group,
    }
