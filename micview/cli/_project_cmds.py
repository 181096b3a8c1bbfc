"""Project commands: new, add, rescan, import-labels, info, export."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from micview.cli._label_report import print_label_report
from micview.cli._progress import run_with_bar
from micview.cli._table import table
from micview.core.csv_io import export_csv, import_labels
from micview.core.importer import READ_TIMEOUT_S, ImportSummary, add_folder, rescan
from micview.core.store import Project


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("new", help="create an empty project file", description="Create an empty project file.")
    p.add_argument("project", type=Path, help="path of the new .micview file")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser(
        "add", help="import folders or files of images",
        description="Import (or re-scan) folders of images, or single image files.",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="a folder (searched recursively) or a file")
    p.add_argument("--no-recursive", dest="recursive", action="store_false", help="only the folder itself")
    p.add_argument("--ext", help="comma-separated extensions to import, e.g. .tif,.dm4 (default: all supported)")
    p.add_argument("--workers", type=int, help="reader processes (default: number of cores, at most 4)")
    p.add_argument("--skip-duplicates", action="store_true", help="do not import files identical to one already in")
    p.add_argument("--read-timeout", type=float, default=READ_TIMEOUT_S, metavar="SECONDS",
                   help=f"give up on a file whose read stalls (default {READ_TIMEOUT_S:g} s, +1 s/2 MB)")  # fmt: skip
    p.add_argument("--dask", metavar="ADDRESS|local:N",
                   help="read the files on a Dask cluster: a scheduler address or local:N (docs/dask.md)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("rescan", help="find new, changed and missing files", description="Re-scan every added folder.")
    p.add_argument("project", type=Path)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_rescan)

    p = sub.add_parser(
        "import-labels", help="join labels and metadata from a CSV",
        description="Join a CSV on its 'file' column: label-task columns become labels, the rest metadata.",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("csv", type=Path)
    p.add_argument("--key", default="file", help="the column naming the image (default: file)")
    p.add_argument("--tasks", help="comma-separated label-task columns (default: columns with few distinct values)")
    p.add_argument("--author", help="who labelled (stored with each label)")
    p.add_argument(
        "--last-wins",
        action="store_true",
        help="where rows for one image disagree, write the last one (default: write none, list them)",
    )
    p.add_argument(
        "--match-names",
        action="store_true",
        help="join paths whose folders the project lacks by file name, when unique (a CSV from elsewhere)",
    )
    p.set_defaults(func=cmd_import_labels)

    p = sub.add_parser("info", help="summarise a project", description="Summarise a project.")
    p.add_argument("project", type=Path)
    p.add_argument("--errors", action="store_true", help="list every file that could not be imported")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "export", help="write a labelled CSV", description="Write one CSV row per image with labels and metadata."
    )
    p.add_argument("project", type=Path)
    p.add_argument("out", type=Path, help="CSV file to write")
    p.add_argument("--tasks", help="comma-separated tasks (default: all)")
    p.add_argument("--labelled-only", action="store_true", help="only images with a user label")
    p.add_argument("--map", action="store_true", help="add map_x, map_y of the newest stored map (micview map)")
    p.set_defaults(func=cmd_export)


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def cmd_new(args: argparse.Namespace) -> int:
    with Project.create(args.project, overwrite=args.force) as project:
        print(f"Created {project.path}")
    return 0


def _print_summary(s: ImportSummary) -> None:
    print(f"{s.added} added, {s.updated} updated, {s.unchanged} unchanged, {len(s.moved)} moved, "
          f"{len(s.errors)} could not be read, {len(s.skipped)} skipped, {len(s.missing)} missing, "
          f"{len(s.duplicates)} duplicates")  # fmt: skip
    for old, new in s.moved[:10]:
        print(f"  moved: {old} -> {new} (labels and history kept)")
    for path, reason in s.skipped[:10]:
        print(f"  skipped: {path}: {reason}")
    for path, reason in s.errors[:20]:
        print(f"  not imported: {path}: {reason}")
    if len(s.errors) > 20:
        print(f"  ... and {len(s.errors) - 20} more (micview info --errors)")
    for path, other in s.duplicates[:10]:
        print(f"  duplicate: {path} has the same content as {other}")
    for path in s.missing[:10]:
        print(f"  missing: {path}")


def cmd_add(args: argparse.Namespace) -> int:
    total = ImportSummary()
    with Project.open(args.project) as project, _dask_reader(args.dask) as reader:
        for path in args.paths:
            task = add_folder(project, path, recursive=args.recursive, extensions=_split(args.ext),
                              workers=args.workers, skip_duplicates=args.skip_duplicates,
                              read_timeout=args.read_timeout, reader=reader)  # fmt: skip
            total.merge(run_with_bar(task, quiet=args.quiet))
    _print_summary(total)
    return 0


@contextlib.contextmanager
def _dask_reader(spec: str | None) -> Iterator[Any]:
    """``None`` (the local reader processes) without --dask; else a reader on the cluster, closed after."""
    if not spec:
        yield None
        return
    from micview.ml.distributed import open_client
    from micview.ml.distributed.reading import dask_reader

    with open_client(spec) as client:
        yield dask_reader(client)


def cmd_rescan(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        _print_summary(run_with_bar(rescan(project), quiet=args.quiet))
    return 0


def cmd_import_labels(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        r = import_labels(project, args.csv, key=args.key, tasks=_split(args.tasks), author=args.author,
                          last_wins=args.last_wins, match_names=args.match_names)  # fmt: skip
    print_label_report(r)
    return 0


def _info(project: Project) -> dict[str, object]:
    rows = project.images.all()
    status = Counter(r.status for r in rows)
    tasks = {}
    for t in project.labels.task_names():
        tasks[t] = {"labels": len(project.labels.labels(t)), "predictions": len(project.labels.current(t, "model"))}
    return {
        "project": str(project.path),
        "schema_version": project.schema_version,
        "images": len(rows),
        "status": dict(status),
        "formats": dict(Counter(r.format for r in rows if r.format)),
        "duplicate_groups": len(project.images.duplicates()),
        "calibrated": sum(r.pixel_size_nm is not None for r in rows),
        "tasks": tasks,
        "embeddings": {m: {"vectors": n, "dim": d} for m, n, d in project.embeddings.models()},
        "runs": len(project.runs.all()),
    }


def cmd_info(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        info = _info(project)
        errors = [(r.path, r.error) for r in project.images.all(status="error")]
    if args.json:
        json.dump({**info, "errors": dict(errors)} if args.errors else info, sys.stdout, indent=2)
        print()
        return 0
    _print_info(info)
    if args.errors:
        for path, reason in errors:
            print(f"  not imported: {path}: {reason}")
    elif errors:
        print(f"  {len(errors)} files could not be read: micview info --errors lists them")
    return 0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


def _print_info(info: dict[str, Any]) -> None:
    """The summary as a few lines and tables (``--json`` gives the same numbers to programs)."""
    print(f"{info['project']} (project format {info['schema_version']})")
    print(f"  images: {info['images']} ({_counts(info['status'])})")
    print(f"  formats: {_counts(info['formats'])}")
    print(f"  with a pixel size: {info['calibrated']}   duplicate groups: {info['duplicate_groups']}   "
          f"runs: {info['runs']}")  # fmt: skip
    if info["tasks"]:
        rows = [(t, c["labels"], c["predictions"]) for t, c in info["tasks"].items()]
        print("\n" + table(["task", "labels", "predictions"], rows))
    if info["embeddings"]:
        rows = [(m, e["vectors"], e["dim"]) for m, e in info["embeddings"].items()]
        print("\n" + table(["embeddings", "vectors", "dim"], rows))


def cmd_export(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        if args.map:
            from micview.ml.map_export import export_with_map

            n, run = export_with_map(project, args.out, tasks=_split(args.tasks), labelled_only=args.labelled_only)
            print(f"map_x, map_y from the {run.method.upper()} map of {run.model_id} (map run {run.id})")
        else:
            n = export_csv(project, args.out, tasks=_split(args.tasks), labelled_only=args.labelled_only)
    print(f"Wrote {n} rows to {args.out}")
    return 0
