"""The analysis figures as PNG files (matplotlib, Agg); the GUI redraws the same arrays with pyqtgraph."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from micview.ml.analysis.concept import ConceptAnalysis
from micview.ml.analysis.imageside import ImageSide
from micview.ml.analysis.matrix import SimilarityMatrix

ThumbnailOf = Callable[[int], bytes | None]
_DPI = 110


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=_DPI, bbox_inches="tight", pad_inches=0.15)  # long tick labels are never cut off
    _plt().close(fig)
    return path


def _colours(n: int) -> list[Any]:
    cmap = _plt().get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def similarity_distributions(c: ConceptAnalysis, path: Path) -> Path:
    """Per group: histogram of every image × prompt similarity; then the images' margins."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (g, colour) in enumerate(zip(c.groups, _colours(len(c.groups)), strict=True)):
        axes[0].hist(c.prompt_sims[:, c.prompt_group == i].ravel(), bins=40, alpha=0.55, color=colour, label=g)
    axes[0].set(title="image–prompt similarity by group", xlabel="cosine similarity", ylabel="image × prompt pairs")
    axes[0].legend(fontsize=8)
    axes[1].hist(c.margin, bins=40, color="0.35")
    axes[1].axvline(0, color="red", lw=1)
    counts = ", ".join(f"{g}: {n}" for g, n in c.counts().items())
    axes[1].set(title=f"preference margin per image\nprefer {counts}", xlabel=c.margin_meaning, ylabel="images")
    axes[1].title.set_fontsize(9)
    return _save(fig, path)


def pair_margins(c: ConceptAnalysis, path: Path) -> Path | None:
    """Paired prompts: each pair's margin over the images (box plot)."""
    if c.pair_margins is None:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(c.pair_ids) + 2), 4))
    ax.boxplot(c.pair_margins, showfliers=False)
    ax.set_xticks(range(1, len(c.pair_ids) + 1), c.pair_ids)
    ax.axhline(0, color="red", lw=1)
    ax.set(title=f"margin per prompt pair ({c.groups[0]} − {c.groups[1]})", xlabel="pair", ylabel="margin")
    return _save(fig, path)


def _matrix(
    ax: Any,
    values: np.ndarray,
    bounds: list[tuple[str, int, int]],
    title: str,
    scale: str = "cosine similarity",
    levels: tuple[float, float] | None = None,
) -> None:
    lo, hi = levels if levels is not None else (None, None)
    im = ax.imshow(values, cmap="viridis", interpolation="nearest", vmin=lo, vmax=hi)
    ticks = [(s + e - 1) / 2 for _, s, e in bounds]
    names = [g if len(g) <= 18 else g[:17] + "…" for g, _, _ in bounds]
    if len(bounds) <= 30:
        ax.set_xticks(ticks, names, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(ticks, names, fontsize=7)
    for _, s, _ in bounds[1:]:
        ax.axhline(s - 0.5, color="white", lw=0.5)
        ax.axvline(s - 0.5, color="white", lw=0.5)
    ax.set_title(title, fontsize=9)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, label=scale)


def off_diagonal_levels(values: np.ndarray) -> tuple[float, float] | None:
    """The 1st to 99th percentile of the off-diagonal values: each image's 1.0 with itself would wash the
    colours of every other pair out."""
    n = len(values)
    if n < 3:
        return None
    off = values[~np.eye(n, dtype=bool)]
    lo, hi = (float(v) for v in np.percentile(off[:: max(1, len(off) // 200_000)], [1, 99]))
    return (lo, hi) if hi > lo else None


def image_matrix(m: SimilarityMatrix, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    title = f"image–image similarity\n{m.caption()} (colours: 1st–99th percentile of the pairs)"
    _matrix(ax, m.values, m.boundaries(), title, levels=off_diagonal_levels(m.values))
    return _save(fig, path)


def text_matrix(c: ConceptAnalysis, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 6))
    bounds = [
        (g, int(np.flatnonzero(c.prompt_group == i)[0]), int(np.flatnonzero(c.prompt_group == i)[-1]) + 1)
        for i, g in enumerate(c.groups)
    ]
    _matrix(ax, c.text_sims, bounds, f"prompt–prompt similarity ({len(c.prompts)} prompts)")
    if len(c.prompts) <= NAMED_PROMPTS:  # each prompt named (numbered as on the prompt maps), in its group's colour
        colours = _colours(len(c.groups))
        ticks = range(len(c.prompts))
        ax.set_yticks(ticks, [f"{k + 1} {_short(t)}" for k, t in enumerate(c.prompts)], fontsize=6)
        ax.set_xticks(ticks, [str(k + 1) for k in ticks], fontsize=6, rotation=0, ha="center")
        for label, group in zip(ax.get_yticklabels(), c.prompt_group.tolist(), strict=True):
            label.set_color(colours[group])
    return _save(fig, path)


NAMED_PROMPTS = 40  # up to this many prompts, the matrix and the maps name each one


def _short(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def text_map(c: ConceptAnalysis, coords: np.ndarray, kind: str, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 5))
    for i, (g, colour) in enumerate(zip(c.groups, _colours(len(c.groups)), strict=True)):
        pts = coords[c.prompt_group == i]
        ax.scatter(pts[:, 0], pts[:, 1], color=colour, label=g, alpha=0.8)
    if len(c.prompts) <= NAMED_PROMPTS:  # numbered as on the prompt-prompt matrix
        for k, (x, y) in enumerate(coords.tolist()):
            ax.annotate(str(k + 1), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7)
    sil = "–" if c.prompt_silhouette is None else f"{c.prompt_silhouette:.3f}"
    ax.set(
        title=f"{kind} of the prompt embeddings (silhouette of the groups {sil})",
        xlabel=f"{kind} 1",
        ylabel=f"{kind} 2",
    )
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def class_similarity(side: ImageSide, path: Path) -> Path:
    plt = _plt()
    n = len(side.classes)
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * n + 3), max(4, 0.5 * n + 2)))
    bounds = [(c, i, i + 1) for i, c in enumerate(side.classes)]
    sil = "–" if side.label_silhouette is None else f"{side.label_silhouette:.3f}"
    _matrix(
        ax,
        side.neighbour_share,
        bounds,
        f"where each class's 5 nearest neighbours fall (rows: class of the image)\n(label silhouette {sil})",
        "share of the neighbours",
    )
    return _save(fig, path)


def confusable_examples(side: ImageSide, thumbnail: ThumbnailOf, path: Path) -> Path | None:
    """Rows of the most confusable class pairs: the example image pairs side by side, a gap between pairs."""
    pairs = [p for p in side.confusable if p.examples]
    if not pairs:
        return None
    plt = _plt()
    per = max(len(p.examples) for p in pairs)
    ratios = [1.0, 1.0, *([0.25, 1.0, 1.0] * (per - 1))]  # a narrow empty column between two pairs
    fig, axes = plt.subplots(
        len(pairs), len(ratios), figsize=(1.6 * 2 * per + 1.2, 2.0 * len(pairs)), squeeze=False,
        gridspec_kw={"width_ratios": ratios},
    )  # fmt: skip
    for r, p in enumerate(pairs):
        for c in range(len(ratios)):
            axes[r][c].axis("off")
        for j, example in enumerate(p.examples):
            for side_of_pair in (0, 1):
                ax = axes[r][3 * j + side_of_pair]
                _show(ax, thumbnail(int(example[side_of_pair])))
                ax.set_title(p.a if side_of_pair == 0 else p.b, fontsize=7)
        axes[r][0].text(
            -0.12,
            0.5,
            f"{p.a} ↔ {p.b}\n{p.neighbour_share:.0%} mixed",
            transform=axes[r][0].transAxes,
            rotation=90,
            va="center",
            ha="right",
            fontsize=7,
        )
    fig.suptitle("most confusable class pairs: the closest images across the two labels, pair by pair", fontsize=9)
    return _save(fig, path)


def _show(ax: Any, data: bytes | None) -> None:
    if data is None:
        return
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            ax.imshow(np.asarray(img.convert("RGB")))
    except (OSError, ValueError):
        pass
