"""Classification commands: classify, evaluate, learn-curve, suggest.

Nothing heavy is imported at module level (``micview --help`` stays fast): numpy, scikit-learn and torch
come in through :mod:`micview.ml.classify` inside the command functions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micview.cli._args import positive_int
from micview.cli._progress import run_with_bar
from micview.core.store import Project

DEFAULT_HELP = "the best model available offline (`micview models recommend` lists them)"
if TYPE_CHECKING:
    from typing import TypeAlias

    SubParsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def register(sub: SubParsers) -> None:
    _register_classify(sub)
    _register_evaluate(sub)
    _register_curve(sub)
    _register_suggest(sub)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("project", type=Path)
    p.add_argument("--task", required=True, help="label task, e.g. technique (or technique_group)")
    p.add_argument("--model",
                   help=f"model id whose vectors to use (default for classify: {DEFAULT_HELP}; for the other "
                        "commands: the model of the task's latest predictions, else the same)")  # fmt: skip
    p.add_argument("--groups", action="store_true", help="use the task's label groups (predictions go to TASK_group)")
    p.add_argument("--groups-file", type=Path, help="JSON mapping label -> group; stored with the task")
    p.add_argument("--exclude", help="comma-separated classes to leave out (after grouping), e.g. other")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _register_classify(sub: SubParsers) -> None:
    p = sub.add_parser(
        "classify", help="predict a label task for every image",
        description="Predict TASK for every image: learns from your labels of TASK (any model) and, for "
        "CLIP-family models, from the task's prompt set (zero-shot); writes TASK_pred and scores.",
    )  # fmt: skip
    _common(p)
    p.add_argument("--prompts", help="prompt set name or JSON file (default: the project's, else resources/prompts)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--zero-shot-only", action="store_true", help="ignore labels, use prompts only")
    g.add_argument("--no-zero-shot", action="store_true", help="ignore prompts, use labels only")
    p.add_argument("--method", choices=["auto", "prototype", "knn", "logreg"], default="auto",
                   help="few-shot classifier (default: chosen by cross-validation on your labels)")  # fmt: skip
    p.set_defaults(func=cmd_classify)


def _register_evaluate(sub: SubParsers) -> None:
    p = sub.add_parser(
        "evaluate", help="score predictions against a label column",
        description="Accuracy, balanced accuracy, macro F1, per-class scores and the confusion matrix of TASK's "
        "predictions against the user labels in --truth (cross-validated when --truth is what it learnt from).",
    )  # fmt: skip
    _common(p)
    p.add_argument("--truth", required=True, help="label column to compare with (grouped like --task)")
    p.add_argument("--mode", choices=["auto", "stored", "cv"], default="auto")
    _group_by(p)
    p.add_argument("--report", type=Path, help="folder for report.md/.html/.json and the confusion-matrix PNG")
    p.set_defaults(func=cmd_evaluate)


def _register_curve(sub: SubParsers) -> None:
    p = sub.add_parser(
        "learn-curve", help="accuracy against the number of labels per class",
        description="k-shot learning curve from TASK's labels: k labels per class, repeated random draws, "
        "tested on all other labelled images.",
    )  # fmt: skip
    _common(p)
    p.add_argument("--k", default="1,5,10,20", help="labels per class (default 1,5,10,20)")
    p.add_argument("--repeats", type=positive_int, default=10)
    _group_by(p)
    p.add_argument("--report", type=Path, help="also write the report (with a 5-fold cross-validation)")
    p.set_defaults(func=cmd_curve)


def _register_suggest(sub: SubParsers) -> None:
    p = sub.add_parser(
        "suggest", help="which images to label next",
        description="Images to label next, in order: first typical images of groups of similar images that have no "
        "label yet, then the images the classifier is least sure about, in turn for each predicted class. Prints "
        "path, predicted class, score, uncertainty and the reason, tab-separated.",
    )  # fmt: skip
    _common(p)
    p.add_argument("-n", type=positive_int, default=20, help="how many (default 20)")
    p.set_defaults(func=cmd_suggest)


def _group_by(p: argparse.ArgumentParser) -> None:
    p.add_argument("--group-by", metavar="TASK",
                   help="label task whose values group images that must never be split between training and "
                        "testing, e.g. a 'specimen' task: images of one specimen look alike")  # fmt: skip


# -- helpers --------------------------------------------------------------------------------------------------
def _split(text: str | None) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def _prepared_view(project: Project, args: argparse.Namespace) -> Any:
    """The task as asked (grouped or not), with ``args.model`` settled and its vectors computed."""
    view = _view(project, args)
    _ensure_vectors(project, args.model, args.quiet)
    return view


def _view(project: Project, args: argparse.Namespace) -> Any:
    """The task as asked (grouped or not); also settles ``args.model`` when it was not given."""
    from micview.ml.classify import load_groups, task_view

    groups = load_groups(args.groups_file) if args.groups_file else None
    view = task_view(project, args.task, grouped=args.groups, groups=groups, exclude=_split(args.exclude))
    if args.model is None:  # evaluate/suggest follow the model that `classify` used
        latest = max(project.labels.current(view.name, "model").values(), key=lambda a: a.created_at, default=None)
        args.model = latest.model_id if latest is not None and latest.model_id else _best_model(args)
    return view


def _best_model(args: argparse.Namespace) -> str:
    """The best model available offline; says so once, since the user did not choose it."""
    from micview.ml.registry import best_offline_model

    model_id = best_offline_model()
    if not args.quiet:
        print(f"Model: {model_id} (the best available offline; choose another with --model)")
    args.model_chosen_by = "default: best available offline"
    return model_id


def _ensure_vectors(project: Project, model_id: str, quiet: bool) -> None:
    from micview.ml.embedding import embed_project, todo_rows
    from micview.ml.features import load_feature_embedder

    if not todo_rows(project, model_id)[0]:
        return
    s = run_with_bar(embed_project(project, model_id, embedder=load_feature_embedder(model_id)), quiet=quiet)
    print(f"Embedded {s.embedded} images with {model_id}" + (f"; {len(s.failed)} failed" if s.failed else ""))


# -- commands -------------------------------------------------------------------------------------------------
def cmd_classify(args: argparse.Namespace) -> int:
    from micview.ml.classify import classify, load_prompt_set

    with Project.open(args.project) as project:
        if args.model is None:  # classify itself always takes the best model, whatever ran before
            args.model = _best_model(args)
        view = _prepared_view(project, args)
        prompts = load_prompt_set(args.prompts) if args.prompts else None
        zs = True if args.zero_shot_only or args.prompts else (False if args.no_zero_shot else None)
        task = classify(project, view, args.model, zero_shot=zs, prompts=prompts, method=args.method,
                        use_labels=not args.zero_shot_only,
                        recipe={"model_chosen_by": getattr(args, "model_chosen_by", "user (--model)"),
                                "method_asked": args.method})  # fmt: skip
        r = run_with_bar(task, quiet=args.quiet)
    print(f"{view.name}: {len(r.image_ids)} images classified with {r.model_id} ({r.method}; {r.n_labels} labels)")
    if r.few_shot is not None and r.few_shot.cv:
        cv = ", ".join(f"{m} {v:.3f}" for m, v in r.few_shot.cv.items())
        print(f"  classifier: {r.few_shot.method}, chosen by cross-validation on your labels "
              f"(balanced accuracy {cv}); temperature {r.few_shot.temperature:.2f}")  # fmt: skip
    elif r.few_shot is not None:
        print(f"  classifier: {r.few_shot.method} (too few labels per class to cross-validate a choice)")
    if r.weight is not None:
        print(f"  weight of your labels vs prompts: {r.weight:.2f}")
    for c, n in r.counts().items():
        print(f"  {c}: {n}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from micview.ml.classify import write_report
    from micview.ml.classify.assess import evaluate_task_steps
    from micview.ml.classify.report import markdown_table, metric_rows, per_class_rows, summary_rows

    with Project.open(args.project) as project:
        view = _prepared_view(project, args)
        steps = evaluate_task_steps(project, view, args.truth, model_id=args.model, mode=args.mode,
                                    group_by=args.group_by)  # fmt: skip
        ev = run_with_bar(steps, quiet=args.quiet)
    print(f"Model: {ev.model}" + _methods_text(ev.extra.get("methods")), "\n")
    print(markdown_table(["Task", "Accuracy", "Balanced Accuracy", "Macro F1"], summary_rows([ev])), "\n")
    print(markdown_table(["Task", "Metric", "Score"], metric_rows([ev])), "\n")
    print(markdown_table(["Class", "Precision", "Recall", "F1", "Support"], per_class_rows(ev)))
    if note := ev.extra.get("note"):
        print(f"\nNote: {note}")
    if args.report:
        paths = write_report(args.report, [ev], notes=[ev.extra.get("note", "")])
        print(f"\nReport written: {paths['md']}, {paths['html']}, {paths['json']}")
    return 0


def _methods_text(methods: dict[str, int] | None) -> str:
    if not methods:
        return ""
    folds = sum(methods.values())
    chosen = ", ".join(f"{m} in {n} of {folds}" for m, n in sorted(methods.items(), key=lambda kv: -kv[1]))
    return f"; classifier chosen by inner cross-validation: {chosen} folds"


def cmd_curve(args: argparse.Namespace) -> int:
    from micview.ml.classify import load_vectors, write_report
    from micview.ml.classify.assess import image_groups
    from micview.ml.classify.curves import cross_validate_steps, learning_curve_steps
    from micview.ml.classify.report import CURVE_HEADER, curve_rows, markdown_table
    from micview.ml.classify.service import labelled_rows

    with Project.open(args.project) as project:
        view = _prepared_view(project, args)
        ids, X = load_vectors(project, args.model)
        rows, y = labelled_rows(ids, view.labels(project))
        groups = image_groups(project, ids[rows], args.group_by) if args.group_by else None
    ks = _ks(args.k)
    curve = run_with_bar(learning_curve_steps(X[rows], y, ks, repeats=args.repeats, groups=groups), quiet=args.quiet)
    methods: dict[str, int] = {}
    for point in curve:
        for m, n in point.methods.items():
            methods[m] = methods.get(m, 0) + n
    grouped = f", test images never share a {args.group_by} with training images" if args.group_by else ""
    print(f"Model: {args.model}; classifier per draw: {', '.join(f'{m} {n}×' for m, n in methods.items())} "
          f"(chosen by cross-validation on the draw's labels, logreg below 2 per class){grouped}\n")  # fmt: skip
    print(markdown_table(CURVE_HEADER, curve_rows(view.name, curve)))
    if args.report:
        ev = run_with_bar(cross_validate_steps(X[rows], y, task=view.name, groups=groups), quiet=args.quiet)
        ev.model = f"{args.model}, 5-fold CV"
        paths = write_report(args.report, [ev], curves={view.name: curve})
        print(f"\nReport written: {paths['html']}")
    return 0


def _ks(text: str) -> list[int]:
    from micview.cli._args import UsageError

    try:
        ks = [int(k) for k in _split(text)]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        raise UsageError(f"--k expects labels per class as whole numbers ≥ 1, e.g. 1,5,10,20 (not {text!r}).")
    return ks


def cmd_suggest(args: argparse.Namespace) -> int:
    from micview.ml.classify import suggest_for_task

    with Project.open(args.project) as project:
        view = _prepared_view(project, args)
        found = suggest_for_task(project, view, args.model, n=args.n)
        paths = {s.image_id: project.images.get(s.image_id).path for s in found}
        why = "" if found else _why_nothing(project, view, args.model)
    if why:
        print(why, file=sys.stderr)
        return 0
    print("file\tpredicted\tscore\tuncertainty\treason")
    for s in found:
        pred = f"{s.predicted}\t{s.score:.3f}" if s.predicted else "-\t-"
        print(f"{paths[s.image_id]}\t{pred}\t{s.uncertainty:.3f}\t{s.reason}")
    return 0


def _why_nothing(project: Project, view: Any, model_id: str) -> str:
    """Why there is nothing to suggest (every image with vectors is labelled, or all left are near-copies)."""
    ids, _ = project.embeddings.for_images(model_id)
    labelled = set(project.labels.labels(view.source))
    left = [i for i in ids.tolist() if i not in labelled]
    if not left:
        return (f"Nothing to suggest: all {len(ids)} images with {model_id} vectors are labelled for "
                f"'{view.source}'. Add images, or label another task.")  # fmt: skip
    return (f"Nothing to suggest: the {len(left)} unlabelled images are near-copies of labelled ones "
            "(same specimen or frame); label them by hand if needed.")  # fmt: skip
