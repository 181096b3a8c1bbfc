"""Analysis commands: ``analyse`` (prompt groups and the embedding space, as figures and a report) and
``quality`` (duplicates, leaks, outliers, likely label mistakes, poor images, clusters, as a CSV).

Nothing heavy is imported at module level; numpy, scikit-learn, faiss, matplotlib and the models load inside
the command functions.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micview.cli._progress import run_with_bar
from micview.core.store import Project

DEFAULT_MODEL = "effnet-lite0"  # micview.ml.registry.DEFAULT_MODEL, repeated to keep --help import-light
if TYPE_CHECKING:
    from typing import TypeAlias

    SubParsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def register(sub: SubParsers) -> None:
    p = sub.add_parser(
        "analyse",
        aliases=["analyze"],
        help="what the embeddings say: prompt groups, labels, similarity",
        description="Compare groups of prompts with the images (CLIP-family models) and look at how the labels "
        "sit in the embedding space (any model). Writes DIR/analysis.json, PNG figures and DIR/report.html.",
    )
    _common(p)
    p.add_argument(
        "--groups",
        type=Path,
        metavar="GROUPS.json",
        help="prompt groups (JSON; the BiomedCLIP scripts' paired layout works as is); saved in the "
        "project. Default: the project's last groups, else the task's prompt set",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the report (created)")
    p.set_defaults(func=cmd_analyse)
    q = sub.add_parser(
        "quality",
        help="duplicates, leaks, outliers, likely label mistakes, poor images",
        description="Per image: near duplicates (and leaks across folders or labels), uniqueness, outliers, "
        "likely label mistakes with a suggested label (confident learning), blur/brightness/clipping/information, "
        "and clusters. Stored in the project (the map can be coloured by it) and written to FILE.csv.",
    )
    _common(q)
    q.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="CSV to write")
    q.add_argument("--clusters", choices=["kmeans", "hdbscan"], default="kmeans")
    q.add_argument("--n-clusters", type=_positive, help="k-means clusters (default: about sqrt(images / 2))")
    q.set_defaults(func=cmd_quality)


def _positive(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError("must be 2 or more")
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument(
        "--model",
        help="model id whose vectors to use (default: the model embedded last, else "
        f"{DEFAULT_MODEL}); missing vectors are computed",
    )
    p.add_argument("--task", help="label task to check and order by, e.g. technique (technique_group: grouped)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _model(project: Project, asked: str | None) -> str:
    if asked:
        return asked
    runs = [r for r in project.runs.all("embedding") if r.model_id and r.status == "done"]
    return runs[-1].model_id or DEFAULT_MODEL if runs else DEFAULT_MODEL


def _ensure_vectors(project: Project, model_id: str, quiet: bool) -> None:
    from micview.ml.embedding import embed_project, todo_rows
    from micview.ml.features import load_feature_embedder

    if project.images.count(status="ok") == 0:
        from micview.ml.analysis import AnalysisError

        raise AnalysisError(f"{project.path} has no readable images yet; add a folder with `micview add` first.")
    if not todo_rows(project, model_id)[0]:
        return
    s = run_with_bar(embed_project(project, model_id, embedder=load_feature_embedder(model_id)), quiet=quiet)
    print(f"Embedded {s.embedded} images with {model_id}" + (f"; {len(s.failed)} failed" if s.failed else ""))


def _view(project: Project, task: str | None) -> Any:
    if not task:
        return None
    from micview.ml.analysis import AnalysisError
    from micview.ml.classify import task_view

    view = task_view(project, task)
    if not view.labels(project):
        known = ", ".join(project.labels.task_names()) or "none yet"
        raise AnalysisError(f"Task '{task}' has no labels in this project (tasks: {known}).")
    return view


def _groups(project: Project, args: argparse.Namespace, view: Any, model_id: str) -> Any:
    """--groups (saved in the project), else the project's last groups, else — for a model with a text tower —
    the task's prompt set, one group per class."""
    from micview.ml.analysis import read_groups, save_groups
    from micview.ml.analysis.defaults import default_groups

    if args.groups:
        groups = read_groups(args.groups)
        save_groups(project, groups)
        return groups
    return default_groups(project, view, model_id)


# -- commands -------------------------------------------------------------------------------------------------
def cmd_analyse(args: argparse.Namespace) -> int:
    from micview.ml.analysis import analyse
    from micview.ml.analysis.report import write_analysis

    _check_out_folder(args.out)
    with Project.open(args.project) as project:
        view = _view(project, args.task)
        model = _model(project, args.model)
        groups = _groups(project, args, view, model)
        _ensure_vectors(project, model, args.quiet)
        result = run_with_bar(analyse(project, model, view=view, groups=groups), quiet=args.quiet)
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from micview.core.atomic import write_problem

            raise write_problem(args.out, exc) from exc
        paths = write_analysis(project, result, args.out)
    _print_analysis(result)
    print(f"Report: {paths['html']} ({len(paths) - 2} figures); every number in {paths['json']}")
    return 0


def _check_out_folder(out: Path) -> None:
    """Fail before the work when the report folder cannot be made or written (a file, no access)."""
    import os

    from micview.core.atomic import check_target
    from micview.core.errors import OutputError

    if out.exists():
        if not out.is_dir():
            raise OutputError(f"{out} is a file; --out needs a folder for the report.")
        check_target(out / "report.html")
        return
    existing = next(p for p in out.absolute().parents if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise OutputError(f"Cannot create the report folder {out}: {existing} is not a writable folder.")


def _print_analysis(r: Any) -> None:
    print(f"{len(r.image_ids)} images, model {r.model_id}" + (f", task {r.task}" if r.task else ""))
    for note in r.notes:
        print(f"  note: {note}")
    if r.concept is not None:
        c = r.concept
        counts = ", ".join(f"{g} {n}" for g, n in c.counts().items())
        sil = "–" if c.prompt_silhouette is None else f"{c.prompt_silhouette:.3f}"
        print(f"  prefer: {counts}; mean margin {float(c.margin.mean()):.4f}; prompt-group silhouette {sil}")
        if c.nearest_prompt:
            print(
                f"  nearest-prompt accuracy {100 * c.nearest_prompt['group_accuracy']:.2f}% "
                f"on {c.nearest_prompt['images']} labelled images"
            )
    if r.image_side is not None:
        s = r.image_side
        sil = "–" if s.label_silhouette is None else f"{s.label_silhouette:.3f}"
        print(
            f"  label silhouette {sil}; most confusable: "
            + ("; ".join(f"{p.a} / {p.b} {100 * p.neighbour_share:.0f}%" for p in s.confusable[:3]) or "none")
        )


def cmd_quality(args: argparse.Namespace) -> int:
    from micview.core.atomic import check_target
    from micview.core.quality.export import write_quality_csv
    from micview.ml.quality import QualityOptions, quality_task

    check_target(args.out)
    with Project.open(args.project) as project:
        view = _view(project, args.task)
        model = _model(project, args.model)
        _ensure_vectors(project, model, args.quiet)
        options = QualityOptions(clusters=args.clusters, n_clusters=args.n_clusters)
        prompts = _naming_prompts(project, model, view)
        result = run_with_bar(
            quality_task(project, model, view=view, options=options, prompts=prompts), quiet=args.quiet
        )
        rows = write_quality_csv(project, result, args.out)
    s = result.summary()
    print(f"{rows} images checked with {model}" + (f" (labels: {result.task})" if result.task else "") + ":")
    print(
        f"  near duplicates: {s['near_duplicates']} images in {s['duplicate_groups']} groups"
        f" ({s['leaks']} across folders or labels)"
    )
    if result.task:
        print(f"  likely label mistakes: {s['label_issues']} of {s['labelled']} labelled images")
    print(
        f"  outliers: {s['outliers']}; blurry {s['blurry']}, dark {s['dark']}, saturated {s['saturated']}, "
        f"low information {s['low_information']}"
    )
    print(f"  clusters: {len(result.cluster_names)} ({result.params['clusters']})")
    print(f"Written: {args.out}")
    return 0


def _naming_prompts(project: Project, model_id: str, view: Any) -> Any:
    """(names, text vectors) to name clusters with, for CLIP-family models: the project's prompt groups'
    prompts, else the task's prompt set's classes; ``None`` for image-only models."""
    from micview.ml.analysis.defaults import naming_prompts

    return naming_prompts(project, model_id, view)
