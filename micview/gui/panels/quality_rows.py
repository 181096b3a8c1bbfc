"""The rows of the Quality view's pages, from a :class:`~micview.core.quality.QualityResult` (Qt-free).

Each row holds the images it shows (a duplicate group: all of them, the original first where it matters to
the reader) and the text beside the thumbnails; the most severe rows come first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from micview.core.quality import QualityResult


@dataclass(frozen=True)
class Row:
    ids: list[int]  # the images of the row (a duplicate group: all of them)
    text: str


def mislabel_rows(
    r: QualityResult, name: Callable[[int], str], tags: dict[int, list[str]], now: dict[int, str]
) -> list[Row]:
    """Suspected label mistakes, most suspect first; ``now``: the task's labels today (accepted ones are ticked)."""
    out = []
    c = r.columns
    index = {int(i): k for k, i in enumerate(r.image_ids.tolist())}
    for image_id in r.label_issues().tolist():
        k = index[image_id]
        given, suggested = r.label_of(int(c["given_label"][k])), r.label_of(int(c["suggested_label"][k]))
        score = float(c["label_issue_score"][k])
        text = f"{name(image_id)}\nlabel: {given}  →  suggested: {suggested}  (score {score:.2f})"
        current = now.get(image_id)
        if current is not None and current != given:
            text += f"\n✓ now labelled {current}"
        out.append(Row([image_id], text + _tag_text(tags, [image_id])))
    return out


def _tag_text(tags: dict[int, list[str]], ids: list[int]) -> str:
    found = sorted({t for i in ids for t in tags.get(i, [])})
    return f"\ntags: {', '.join(found)}" if found else ""


def summary_text(r: QualityResult) -> str:
    s = r.summary()
    labels = (
        f"{s['label_issues']} suspected label mistakes of {s['labelled']:,} labelled ({r.task})"
        if r.task
        else "labels not checked (no task chosen)"
    )
    return (
        f"{s['images']:,} images checked with {r.model_id}" + (f", labels of {r.task}" if r.task else "") + ".\n"
        f"{s['near_duplicates']} near duplicates in {s['duplicate_groups']} groups ({s['leaks']} across folders or "
        f"labels) · {labels} · {s['outliers']} outliers · blurry {s['blurry']}, dark {s['dark']}, saturated "
        f"{s['saturated']}, low information {s['low_information']} · {len(r.cluster_names)} clusters.\n"
        "The map can be coloured by any of these (Colour ▸ Quality: …)."
    )


def duplicate_rows(r: QualityResult, name: Callable[[int], str], tags: dict[int, list[str]]) -> list[Row]:
    c = r.columns
    index = {int(i): k for k, i in enumerate(r.image_ids.tolist())}
    leaks = {1: "leak across folders", 2: "leak across labels", 3: "leak across folders and labels"}
    out = []
    for group in r.duplicate_groups():
        ids = [int(i) for i in group]
        dist = max(float(c["duplicate_distance"][index[i]]) for i in ids)
        leak = leaks.get(int(c["leak"][index[ids[0]]]), "")
        names = ", ".join(name(i) for i in ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
        text = f"{len(ids)} images, distance ≤ {dist:.4f}{' · ' + leak if leak else ''}\n{names}"
        out.append(Row(ids, text + _tag_text(tags, ids)))
    return out


def outlier_rows(r: QualityResult, name: Callable[[int], str], tags: dict[int, list[str]]) -> list[Row]:
    c = r.columns
    index = {int(i): k for k, i in enumerate(r.image_ids.tolist())}
    return [
        Row(
            [i],
            f"{name(i)}\noutlier score {c['outlier_score'][index[i]]:.2f} (1 = typical), uniqueness "
            f"{c['uniqueness'][index[i]]:.2f}" + _tag_text(tags, [i]),
        )
        for i in r.ranked("outlier_score", flag="is_outlier").tolist()
    ]


POOR = (
    ("is_blurry", "blurry"),
    ("is_dark", "dark"),
    ("is_saturated", "saturated"),
    ("is_low_information", "low information"),
)


def poor_rows(r: QualityResult, name: Callable[[int], str], tags: dict[int, list[str]]) -> list[Row]:
    c = r.columns
    flags = np.stack([c[k].astype(bool) for k, _ in POOR], 1)
    rows = np.flatnonzero(flags.any(1))
    out = []
    for k in rows[np.argsort(-flags[rows].sum(1), kind="stable")].tolist():
        what = ", ".join(label for (col, label), on in zip(POOR, flags[k], strict=True) if on)
        i = int(r.image_ids[k])
        text = (
            f"{name(i)}\n{what} · blur {c['blur'][k]:.4g}, brightness {c['brightness'][k]:.2f}, clipped "
            f"{c['saturation'][k]:.0%}, entropy {c['entropy'][k]:.1f} bits"
        )
        out.append(Row([i], text + _tag_text(tags, [i])))
    return out


def cluster_rows(r: QualityResult) -> list[Row]:
    cluster = r.columns["cluster"]
    out = []
    for k, name in enumerate(r.cluster_names):
        members = r.image_ids[cluster == k].tolist()
        rep = r.cluster_representatives[k] if k < len(r.cluster_representatives) else (members[0] if members else -1)
        ids = [int(rep), *[int(i) for i in members if i != rep]] if rep >= 0 else [int(i) for i in members]
        out.append(Row(ids, f"{name}\n{len(members)} images (the first shown is its representative)"))
    noise = r.image_ids[cluster < 0].tolist()
    if noise:
        out.append(Row([int(i) for i in noise], f"not in any cluster\n{len(noise)} images (HDBSCAN's noise)"))
    return out
