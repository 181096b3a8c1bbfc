"""The analysis written to a folder: ``analysis.json`` (every number), the figures, and ``report.html``."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micview.core.atomic import atomic_write
from micview.ml.analysis import figures
from micview.ml.analysis.service import AnalysisResult
from micview.ml.classify.report import html_table

if TYPE_CHECKING:
    from micview.core.store import Project


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def per_image(project: Project, r: AnalysisResult) -> list[dict[str, Any]]:
    paths = dict(project.con.execute("SELECT id, path FROM images"))
    out = []
    for i, image_id in enumerate(r.image_ids.tolist()):
        row: dict[str, Any] = {"file": paths.get(image_id), "label": r.labels[i]}
        if r.concept:
            c = r.concept
            row["prefers"] = c.groups[int(c.preferred[i])]
            row["margin"] = round(float(c.margin[i]), 6)
            row["similarity"] = {g: round(float(c.group_sims[i, j]), 6) for j, g in enumerate(c.groups)}
        out.append(row)
    return out


def write_figures(project: Project, r: AnalysisResult, folder: Path) -> list[tuple[Path, str]]:
    """The PNGs with their captions, in reading order."""
    out: list[tuple[Path | None, str]] = []
    c = r.concept
    if c is not None:
        out += [
            (
                figures.similarity_distributions(c, folder / "similarity_distributions.png"),
                f"Image–prompt similarities per group and each image's margin ({c.margin_meaning}).",
            ),
            (figures.pair_margins(c, folder / "pair_margins.png"), "Margin of each prompt pair over the images."),
            (
                figures.text_matrix(c, folder / "text_similarity_matrix.png"),
                "Prompt–prompt cosine similarity (prompts numbered as on the maps below).",
            ),
            (
                figures.text_map(c, c.text_pca, "PCA", folder / "text_pca.png"),
                "PCA of the prompt embeddings (numbers: the prompts of the matrix above).",
            ),
        ]
        if c.text_tsne is not None:
            out.append(
                (
                    figures.text_map(c, c.text_tsne, "t-SNE", folder / "text_tsne.png"),
                    "t-SNE of the prompt embeddings (numbers: the prompts of the matrix above).",
                )
            )
    out.append(
        (
            figures.image_matrix(r.matrix, folder / "image_similarity_matrix.png"),
            f"Image–image cosine similarity: {r.matrix.caption()}.",
        )
    )
    if r.image_side is not None:
        out.append(
            (
                figures.class_similarity(r.image_side, folder / "class_neighbours.png"),
                "Where each class's nearest neighbours fall (rows: class of the image).",
            )
        )

        def thumb(image_id: int) -> bytes | None:
            t = project.images.thumbnail(image_id)
            return t.data if t else None

        out.append(
            (
                figures.confusable_examples(r.image_side, thumb, folder / "confusable_pairs.png"),
                "The most confusable class pairs, with the closest images across each pair.",
            )
        )
    return [(p, cap) for p, cap in out if p is not None]


def _tables(r: AnalysisResult) -> list[tuple[str, list[str], list[list[str]]]]:
    tables: list[tuple[str, list[str], list[list[str]]]] = []
    c, side = r.concept, r.image_side
    if c is not None:
        s = c.summary()
        ts = c.text_similarity
        tables.append(
            (
                "Prompt groups",
                ["Measure", "Value"],
                [
                    ["images preferring each group", ", ".join(f"{g}: {n}" for g, n in c.counts().items())],
                    ["mean margin", _fmt(s["margin"]["mean"])],
                    ["silhouette of the prompt groups", _fmt(c.prompt_silhouette)],
                    ["mean similarity between prompts (all pairs)", _fmt(ts["all_pairs"])],
                    ["… within groups", _fmt(ts["within_groups"])],
                    ["… between groups", _fmt(ts["between_groups"])],
                ],
            )
        )
        if c.nearest_prompt:
            n = c.nearest_prompt
            tables.append(
                (
                    "Nearest-prompt accuracy (labels that name a group)",
                    ["Measure", "Value"],
                    [
                        ["images", str(n["images"])],
                        ["accuracy (group mean)", _fmt(n["group_accuracy"])],
                        ["balanced accuracy", _fmt(n["group_balanced_accuracy"])],
                        ["accuracy (single nearest prompt)", _fmt(n["single_prompt_accuracy"])],
                    ],
                )
            )
        if c.label_preference:
            tables.append(
                (
                    "Preferred group by label",
                    ["Label", *c.groups],
                    [[lab, *map(str, row.values())] for lab, row in c.label_preference.items()],
                )
            )
        if "pairs" in s:
            tables.append(
                (
                    "Prompt pairs",
                    ["Pair", "Mean margin", f"Images preferring {c.groups[0]}"],
                    [[p["pair_id"], _fmt(p["margin"]["mean"]), str(p["prefer_first"])] for p in s["pairs"]],
                )
            )
    if side is not None:
        tables.append(
            (
                "Classes",
                ["Class", "Images", "Spread (mean distance to centre)"],
                [[k, str(side.counts[k]), _fmt(side.spread[k])] for k in side.classes],
            )
        )
        tables.append(
            (
                "Most confusable class pairs",
                ["Class A", "Class B", "Neighbours mixed", "Centre similarity"],
                [[p.a, p.b, f"{100 * p.neighbour_share:.1f}%", _fmt(p.centre_similarity)] for p in side.confusable],
            )
        )
    return tables


def write_analysis(project: Project, r: AnalysisResult, folder: str | Path) -> dict[str, Path]:
    """Write the figures, ``analysis.json`` and ``report.html`` into ``folder`` (created); returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figs = write_figures(project, r, folder)
    data = {**r.summary(), "run_id": r.run_id, "figures": [p.name for p, _ in figs], "per_image": per_image(project, r)}
    paths = {"json": folder / "analysis.json", "html": folder / "report.html"}
    with atomic_write(paths["json"], "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
    with atomic_write(paths["html"], "w", encoding="utf-8") as f:
        f.write(_html(r, figs))
    return {**paths, **{p.stem: p for p, _ in figs}}


def _html(r: AnalysisResult, figs: list[tuple[Path, str]]) -> str:
    e = html.escape
    head = f"micview analysis — {r.model_id}" + (f", task {r.task}" if r.task else "")
    body = [
        f"<h1>{e(head)}</h1>",
        f"<p>{len(r.image_ids)} images"
        + (f"; prompt groups '{e(r.groups.name)}': {e(', '.join(r.groups.names))}" if r.groups else "")
        + ".</p>",
    ]
    body += [f"<p class='note'>{e(n)}</p>" for n in r.notes]
    side = r.image_side
    if side is not None:
        labelled = sum(side.counts.values())
        sample = (
            f" The neighbours were counted for a stratified sample of {side.neighbours_from} of the {labelled} "
            "labelled images."
            if side.neighbours_from < labelled
            else ""
        )
        body.append(
            f"<p>{len(side.classes)} classes of {e(r.task or '')}, {labelled} labelled images. Silhouette of the "
            f"labels <b>{_fmt(side.label_silhouette)}</b> (cosine, −1 … 1: near 0 or below, the labels do not form "
            f"separate groups in {e(r.model_id)}'s space; towards 1, they do).{sample}</p>"
        )
    for title, header, rows in _tables(r):
        body += [f"<h2>{e(title)}</h2>", html_table(header, rows)]
    for path, caption in figs:
        body.append(
            f'<figure><img src="{e(path.name)}" alt="{e(caption)}"><figcaption>{e(caption)}</figcaption></figure>'
        )
    return _PAGE.format(title=e(head), body="\n".join(body))


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0}} td,th{{border:1px solid #bbb;padding:.25em .6em;text-align:right}}
td:first-child,th:first-child{{text-align:left}} img{{max-width:100%}} figure{{margin:2em 0}}
figcaption{{color:#444;font-size:.9em}} .note{{background:#fff6d5;padding:.5em}}</style>
</head><body>
{body}
</body></html>
"""
