"""Vision-language model commands: ask, mcq, describe.

torch and transformers load only inside the command functions (through micview.ml.vlm), so ``micview --help``
stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from micview.cli._args import positive_int
from micview.cli._progress import run_with_bar
from micview.core.store import Project

DEFAULT_VLM = "HuggingFaceTB/SmolVLM-256M-Instruct"  # used when neither --model nor $MICVIEW_VLM is given


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="ask a vision-language model about an image (answer streamed)",
                       description="Ask a question about an image; the answer is printed as it is generated "
                       "and saved in the project.")  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("image", help="a path in the project, or a unique file name")
    p.add_argument("question")
    _model_opts(p)
    p.add_argument("--max-new-tokens", type=positive_int, default=256)
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy, the same answer every time")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("mcq", help="evaluate multiple-choice questions from a CSV or a label task",
                       description="Answer multiple-choice questions by scoring each option's letter; print "
                       "accuracy, balanced accuracy, macro F1, the confusion matrix and seconds per image. "
                       "Resumable: the same command continues where it stopped.")  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("--csv", type=Path, help="columns image,question,options,answer, or image + label columns "
                   "(like qa.csv) with --task; without --csv the project's labels of --task are used")  # fmt: skip
    p.add_argument("--task", help="label column / task whose classes are the options (e.g. technique)")
    p.add_argument("--question", help="question text for --task (default: a standard one per task)")
    p.add_argument("--options", help="the options for --task, separated by | (default: the CSV column's values)")
    p.add_argument("--shots", type=_non_negative, default=0, help="labelled example images per class shown first")
    p.add_argument("--method", choices=["letters", "generate"], default="letters",
                   help="letters: score option letters (default); generate: generate and parse")  # fmt: skip
    p.add_argument("--batch-size", type=positive_int, default=8)
    p.add_argument("--out", type=Path, help="write one row per question to this CSV")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _model_opts(p)
    p.set_defaults(func=cmd_mcq)

    p = sub.add_parser(
        "describe",
        help="write a short description of images (searchable)",
        description="Describe images (technique, features, scale, defects) and save the text.",
    )
    p.add_argument("project", type=Path)
    p.add_argument("images", nargs="*", help="images to describe (default: every image)")
    p.add_argument("--batch-size", type=positive_int, default=4)
    p.add_argument("--max-new-tokens", type=positive_int, default=160)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _model_opts(p)
    p.set_defaults(func=cmd_describe)


def _model_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", help=f"model folder, registered id or cached repo id (default: $MICVIEW_VLM or {DEFAULT_VLM})"
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    p.add_argument("--precision", choices=["float32", "bfloat16", "float16"], help="default: fastest safe one")
    p.add_argument("--max-side", type=positive_int, default=768, help="images are downscaled to this longest side (px)")
    p.add_argument("--trust-remote-code", action="store_true", help="run Python code shipped with the model")
    p.add_argument("--allow-bin", action="store_true", help="also load pickle-based .bin weights")


def _non_negative(text: str) -> int:
    return 0 if text.strip() == "0" else positive_int(text)


def _load(args: argparse.Namespace) -> Any:
    from micview.ml.vlm import load_vlm

    name = args.model or os.environ.get("MICVIEW_VLM") or DEFAULT_VLM
    vlm = load_vlm(name, device=None if args.device == "auto" else args.device, precision=args.precision,
                   trust_remote_code=args.trust_remote_code, allow_pickle=args.allow_bin)  # fmt: skip
    for note in vlm.notes:
        print(f"micview: note: {note}", file=sys.stderr)
    return vlm


def cmd_ask(args: argparse.Namespace) -> int:
    from micview.core.errors import Cancelled
    from micview.ml.vlm import GenerationSettings, TextChunk, ask
    from micview.ml.vlm.inputs import find_image

    with Project.open(args.project) as project:
        find_image(project, args.image)  # a wrong name is told before the model takes seconds to load
        vlm = _load(args)
        settings = GenerationSettings(args.max_new_tokens, args.temperature)
        task = ask(project, [args.image], args.question, vlm, settings, max_side=args.max_side)
        try:
            for step in task:
                if isinstance(step, TextChunk):
                    sys.stdout.write(step.text)
                    sys.stdout.flush()
        except KeyboardInterrupt:
            task.close()
            raise Cancelled("Cancelled; the partial answer was not saved.") from None
        print()
    return 0


def _questions(project: Project, args: argparse.Namespace) -> Any:
    from micview.ml.vlm import project_items, read_csv_items

    if args.csv:
        if not args.csv.is_file():
            from micview.core.errors import CsvError

            raise CsvError(f"{args.csv}: no such file.")
        options = [o.strip() for o in args.options.split("|")] if args.options else None
        return read_csv_items(project, args.csv, args.task, args.question, options)
    if not args.task:
        from micview.core.errors import CsvError

        raise CsvError("Give --csv, or --task to ask about the project's labelled images.")
    return project_items(project, args.task, args.question)


def cmd_mcq(args: argparse.Namespace) -> int:
    from micview.ml.vlm import EvalSettings, evaluate_mcq, export_results

    if args.out:
        from micview.core.atomic import check_target

        check_target(args.out)  # before the model works for minutes, not after
    with Project.open(args.project) as project:
        qs = _questions(project, args)
        if qs.unmatched:
            print(f"{len(qs.unmatched)} rows name no image of the project, e.g. {qs.unmatched[:3]}", file=sys.stderr)
        if qs.skipped:
            print(f"{len(qs.skipped)} rows have no answer among the options and are left out", file=sys.stderr)
        vlm = _load(args)
        settings = EvalSettings(args.method, args.shots, args.batch_size, args.max_side)
        report = run_with_bar(evaluate_mcq(project, qs, vlm, settings), quiet=args.quiet)
        _print_report(report)
        if args.out:
            print(f"Results written to {export_results(project, report.run_id, args.out)}")
    return 0


def _print_report(r: Any) -> None:
    m = r.metrics
    print(f"{r.model_id}: {m.n} questions ({r.answered_now} answered now, {r.already_done} already done), "
          f"{len(r.exemplars)} few-shot examples")  # fmt: skip
    print(f"accuracy {m.accuracy:.1%}   balanced accuracy {m.balanced_accuracy:.1%}   macro F1 {m.macro_f1:.3f}   "
          f"unanswered {m.unanswered}")  # fmt: skip
    print(f"{r.seconds_per_image:.3f} s per image (model time)")
    width = max(len(x) for x in m.labels) if m.labels else 0
    print("confusion matrix (rows: truth, columns: prediction in the same order)")
    for label, row in zip(m.labels, m.confusion, strict=True):
        print(f"  {label:>{width}}  " + " ".join(f"{v:4d}" for v in row))


def cmd_describe(args: argparse.Namespace) -> int:
    from micview.ml.vlm import GenerationSettings, describe
    from micview.ml.vlm.inputs import find_image

    with Project.open(args.project) as project:
        rows = [find_image(project, n) for n in args.images] if args.images else project.images.all(status="ok")
        vlm = _load(args)
        task = describe(project, [r.id for r in rows], vlm, GenerationSettings(args.max_new_tokens),
                        batch_size=args.batch_size, max_side=args.max_side)  # fmt: skip
        for answer in run_with_bar(task, quiet=args.quiet):
            print(f"== {project.images.get(answer.image_id).path}\n{answer.text}\n")
    return 0
