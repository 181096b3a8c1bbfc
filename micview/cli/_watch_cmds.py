"""Maps and live watching from the terminal: ``micview map`` and ``micview watch``.

``micview map`` stores the same map runs the GUI shows (one run per model, method and settings, with what
places new points later). ``micview watch`` takes each image written into a folder into the project, embeds
it, places it on the stored map, predicts it and checks the alert rules, printing one line per image, until
``--for`` runs out (exit 0) or Ctrl-C (exit 130); everything taken in is kept either way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from micview.cli._args import check_task
from micview.cli._progress import run_with_bar
from micview.core.errors import Cancelled, MicviewError
from micview.core.store import Project
from micview.ml.registry import DEFAULT_MODEL


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "map", help="compute and store the 2-D map of the embeddings",
        description="Compute (or reuse) the map the window shows, with what places new images on it later. "
        "Images without vectors are embedded first.",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("--method", choices=["umap", "pca"], default="umap", help="default: umap")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"embedding model (default: {DEFAULT_MODEL})")
    p.add_argument("--refit", action="store_true", help="fit a new map even if the stored one covers every image")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_map)
    _register_watch(sub)


def _register_watch(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "watch", help="take in new images from a folder as they are written",
        description="Watch FOLDER: each image written into it is imported once complete, embedded, placed on\n"
        "the stored map (existing points never move) and predicted; one line per image.\n"
        "Ends after --for SECONDS (exit 0) or with Ctrl-C (exit 130). Details: docs/watch.md.",
        epilog="examples:\n  micview watch run.micview /data/today --task phase --for 3600\n"
        "  micview watch plate.micview /imager/plate7 --alert 'crystals>=0.8' --alert changed "
        "--alert-log hits.jsonl\n  micview watch run.micview //server/share/sem --polling --poll 5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("folder", type=Path)
    p.add_argument("--for", dest="seconds", type=_positive_seconds, metavar="SECONDS", help="stop after this long")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"embedding model (default: {DEFAULT_MODEL})")
    p.add_argument("--task", help="predict this label task (default: the project's only task, if it has one)")
    p.add_argument("--method", choices=["umap", "pca"], help="map whose coordinates are shown (default: umap)")
    p.add_argument("--marco", action=argparse.BooleanOptionalAction, default=None,
                   help="score drops with MARCO (default: with a plate pattern or MARCO scores)")  # fmt: skip
    p.add_argument("--alert", action="append", default=[], metavar="RULE",
                   help="CLASS>=SCORE, far, far>DISTANCE or changed (repeatable)")  # fmt: skip
    p.add_argument("--alert-log", type=Path, metavar="FILE", help="append each alert to FILE as one JSON line")
    p.add_argument("--alert-command", metavar="COMMAND",
                   help="run COMMAND (no shell) for each alert, the alert as JSON on its standard input")  # fmt: skip
    p.add_argument("--alert-timeout", type=_positive_seconds, default=10.0, metavar="SECONDS",
                   help="stop an alert command after this long (default 10)")  # fmt: skip
    p.add_argument("--polling", action="store_true", default=None,
                   help="compare folder listings instead of file-system events (network shares; automatic for "
                   "SMB/NFS mounts)")  # fmt: skip
    p.add_argument("--poll", type=_positive_seconds, default=1.0, metavar="SECONDS", help="polling interval (1)")
    p.add_argument("--settle", type=_positive_seconds, default=0.5, metavar="SECONDS",
                   help="a file is complete when unchanged this long (default 0.5)")  # fmt: skip
    p.add_argument("--no-recursive", dest="recursive", action="store_false", help="only the folder itself")
    p.add_argument("--ext", help="comma-separated extensions to take in, e.g. .tif,.jpg (default: all supported)")
    p.add_argument("--json", action="store_true", help="one JSON object per image instead of a line of text")
    p.set_defaults(func=cmd_watch)


def cmd_map(args: argparse.Namespace) -> int:
    from micview.ml.embedding import embed_project
    from micview.ml.map_growth import added_fraction
    from micview.ml.maps import map_task

    with Project.open(args.project) as project:
        if not project.images.count(status="ok"):
            raise MicviewError(f"{project.path.name} has no readable images yet; add some with micview add.")
        run_with_bar(embed_project(project, args.model), quiet=args.quiet)
        result = run_with_bar(map_task(project, args.model, args.method, refit=args.refit), quiet=args.quiet)
        later = added_fraction(project, result.run_id) if result.run_id else 0.0
    how = "stored map reused" if result.cached else f"fitted in {result.fit_seconds:.1f} s"
    if result.place_seconds:
        how += f", {result.place_seconds:.1f} s placing the points outside the fit sample"
    print(f"{args.method.upper()} map of {len(result.ids):,} images with {args.model} (map run {result.run_id}; {how})")
    if later:
        hint = f"; `micview map {args.project} --method {args.method} --refit` fits it anew" if later > 0.2 else ""
        print(f"  {later:.0%} of its points were placed after it was fitted{hint}")
    return 0


def _options(project: Project, args: argparse.Namespace) -> Any:
    from micview.core.watch import parse_rule
    from micview.ml.watch import WatchOptions

    task = args.task
    if task is not None:
        check_task(project, task)
    elif len(names := [t for t in project.labels.task_names() if project.labels.labels(t)]) == 1:
        task = names[0]
    exts = [e.strip() for e in args.ext.split(",") if e.strip()] if args.ext else None
    return WatchOptions(
        model_id=args.model, task=task, method=args.method, marco=args.marco,
        rules=tuple(parse_rule(r) for r in args.alert), recursive=args.recursive, extensions=exts,
        polling=args.polling, poll_s=args.poll, settle_s=args.settle,
    )  # fmt: skip


def _sinks(args: argparse.Namespace) -> list[Any]:
    from micview.core.watch import CommandSink, JsonLinesSink

    sinks: list[Any] = []
    if args.alert_log:
        sinks.append(JsonLinesSink(args.alert_log))
    if args.alert_command:
        sinks.append(CommandSink(args.alert_command, args.alert_timeout))
    return sinks


def cmd_watch(args: argparse.Namespace) -> int:
    from micview.ml.watch import watch_folder

    if not args.project.exists():
        raise MicviewError(f"{args.project}: no such project (create it with micview new).")
    with Project.open(args.project) as project:
        options = _options(project, args)
    sinks = _sinks(args)
    if not args.alert and sinks:
        print("micview: warning: --alert-log/--alert-command without --alert receive nothing", file=sys.stderr)
    task = watch_folder(args.project, args.folder, options, seconds=args.seconds, sinks=sinks)
    summary: Any = None
    try:
        summary = _follow(task, args)
    except KeyboardInterrupt:
        task.close()  # the watcher and the model helpers stop; every image taken in is already committed
        raise Cancelled("Watch stopped; every image taken in so far is saved.") from None
    finally:
        for sink in sinks:
            sink.close()
    _print_summary(summary, args)
    return 0


def _follow(task: Any, args: argparse.Namespace) -> Any:
    from micview.ml.watch import describe

    while True:
        try:
            step = next(task)
        except StopIteration as stop:
            return stop.value
        told = step.event in ("vanished", "returned") or step.message.startswith(("Watching ", "Loading "))
        if told and not step.arrivals:
            print(f"micview: {step.message}", file=sys.stderr)
        for a in step.arrivals:
            print(json.dumps(a.as_dict(), default=str) if args.json else describe(a), flush=True)
        for hit in step.hits:
            print(f"ALERT [{hit.rule}] {hit.arrival.name}: {hit.why}", flush=True)
        if step.event == "refit":
            print(f"micview: more than 20 % of the map's points were placed after it was fitted; "
                  f"`micview map {args.project} --refit` fits it anew", file=sys.stderr)  # fmt: skip


def _print_summary(summary: Any, args: argparse.Namespace) -> None:
    lat = summary.latencies
    timing = (
        f"; file complete to point on the map: median {statistics.median(lat):.2f} s, max {max(lat):.2f} s"
        if lat
        else ""
    )
    print(f"Watched {summary.folder} for {summary.seconds:.0f} s: {summary.arrived} new images, "
          f"{len(summary.unreadable)} unreadable, {summary.hits} alerts{timing}", file=sys.stderr)  # fmt: skip
    for path, reason in summary.unreadable[:20]:
        print(f"  not imported: {path}: {reason}", file=sys.stderr)
    for note in summary.notes:
        print(f"  note: {note}", file=sys.stderr)
