"""Evaluation reports: Markdown and HTML (with a confusion-matrix PNG) and JSON, in one folder.

The tables use the layout of the reference projects' READMEs (``Task | Metric | Score`` and
``Task | Accuracy | Balanced Accuracy | Macro F1``, percentages with two decimals, F1 as a fraction), so a
micview result can be read side by side with the numbers it is compared to.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from micview.core.atomic import write_bytes_atomic, write_problem
from micview.ml.classify.curves import CurvePoint
from micview.ml.classify.evaluate import Evaluation


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f}%"


def metric_rows(evs: Sequence[Evaluation]) -> list[list[str]]:
    rows = []
    for e in evs:
        rows += [[e.task, "Top-1 Accuracy", pct(e.top1)]]
        if e.top2 is not None:
            rows += [[e.task, "Top-2 Accuracy", pct(e.top2)]]
        rows += [[e.task, "Balanced Accuracy", pct(e.balanced_accuracy)], [e.task, "Macro F1", f"{e.macro_f1:.3f}"]]
    return rows


def summary_rows(evs: Sequence[Evaluation]) -> list[list[str]]:
    return [[f"{e.task} ({e.model})", pct(e.accuracy), pct(e.balanced_accuracy), f"{e.macro_f1:.3f}"] for e in evs]


def per_class_rows(e: Evaluation) -> list[list[str]]:
    return [[c.name, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.support)] for c in e.per_class]


def confusion_rows(e: Evaluation) -> list[list[str]]:
    return [[c, *map(str, row)] for c, row in zip(e.classes, e.confusion, strict=True)]


def curve_rows(task: str, curve: Sequence[CurvePoint]) -> list[list[str]]:
    def ms(v: tuple[float, float], f: str) -> str:
        return f"{v[0]:{f}} ± {v[1]:{f}}"

    return [[task, str(p.k), str(min(p.train_per_class.values())) + "–" + str(max(p.train_per_class.values())),
             str(p.repeats), ms(p.balanced_accuracy, ".3f"), ms(p.macro_f1, ".3f"), ms(p.accuracy, ".3f")]
            for p in curve]  # fmt: skip


CURVE_HEADER = ["Task", "k", "Labels per class", "Repeats", "Balanced Accuracy", "Macro F1", "Accuracy"]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def save_confusion_png(e: Evaluation, path: Path, *, normalise: bool = True) -> Path:
    """Confusion matrix as a PNG (rows true, columns predicted; colour = row fraction, text = counts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cm = np.asarray(e.confusion, float)
    frac = cm / np.maximum(cm.sum(1, keepdims=True), 1) if normalise else cm
    n = len(e.classes)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 + 0.7 * n), 1.4 + 0.6 * n), dpi=120)
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1 if normalise else None)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", color="white" if frac[i, j] > 0.5 else "black")
    ax.set_xticks(range(n), e.classes, rotation=45, ha="right")
    ax.set_yticks(range(n), e.classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{e.task}\nbalanced accuracy {100 * e.balanced_accuracy:.1f}%", fontsize=9, wrap=True)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return write_bytes_atomic(path, buffer.getvalue())


def _sections(evs: Sequence[Evaluation], curves: dict[str, list[CurvePoint]]) -> list[tuple[str, list[str], list[Any]]]:
    out: list[tuple[str, list[str], list[Any]]] = [
        ("Summary", ["Task", "Accuracy", "Balanced Accuracy", "Macro F1"], summary_rows(evs)),
        ("Metrics", ["Task", "Metric", "Score"], metric_rows(evs)),
    ]
    for e in evs:
        out.append((f"{e.task}: per class ({e.n} images, truth: {e.truth})",
                    ["Class", "Precision", "Recall", "F1", "Support"], per_class_rows(e)))  # fmt: skip
        out.append((f"{e.task}: confusion matrix (rows true, columns predicted)", ["", *e.classes], confusion_rows(e)))
    for task, curve in curves.items():
        out.append((f"{task}: k-shot learning curve", CURVE_HEADER, curve_rows(task, curve)))
    return out


def write_report(
    folder: str | Path,
    evaluations: Sequence[Evaluation],
    *,
    curves: dict[str, list[CurvePoint]] | None = None,
    title: str = "micview evaluation",
    notes: Sequence[str] = (),
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``report.json`` and ``confusion_<task>.png``; returns the paths."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_problem(folder, exc) from exc
    curves = curves or {}
    pngs = {e.task: save_confusion_png(e, folder / f"confusion_{_slug(e.task)}.png") for e in evaluations}
    sections = _sections(evaluations, curves)
    md = [f"# {title}", *notes, ""]
    body = [f"<h1>{html.escape(title)}</h1>", *(f"<p>{html.escape(n)}</p>" for n in notes)]
    for name, header, rows in sections:
        md += [f"## {name}", "", markdown_table(header, rows), ""]
        body += [f"<h2>{html.escape(name)}</h2>", html_table(header, rows)]
    for task, png in pngs.items():
        md += [f"![confusion matrix, {task}]({png.name})", ""]
        body += [f'<p><img src="{html.escape(png.name)}" alt="confusion matrix, {html.escape(task)}"></p>']
    paths = {"md": folder / "report.md", "html": folder / "report.html", "json": folder / "report.json", **pngs}
    write_bytes_atomic(paths["md"], "\n".join(md).encode("utf-8"))
    write_bytes_atomic(paths["html"], _HTML.format(title=html.escape(title), body="\n".join(body)).encode("utf-8"))
    data = {"title": title, "notes": list(notes), "evaluations": [e.to_dict() for e in evaluations],
            "learning_curves": {t: [asdict(p) for p in c] for t, c in curves.items()}}  # fmt: skip
    write_bytes_atomic(paths["json"], json.dumps(data, indent=2).encode("utf-8"))
    return paths


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #bbb;padding:.25em .6em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}</style>
</head><body>
{body}
</body></html>
"""
