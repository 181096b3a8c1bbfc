"""`micview tasks PROJECT [list | rename OLD NEW | remove NAME]`: look after label tasks as a whole.

Removing asks for ``--yes`` and first writes the task's current labels and predictions to a CSV beside the
project (re-importable with ``import-labels``), because the project itself keeps no copy once they are gone.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from micview.cli._table import table
from micview.core.csv_io import csv_cell, write_csv_atomic
from micview.core.store import Project
from micview.core.store.tasks_admin import backup_rows, remove_task, rename_task, require_task, task_summaries


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "tasks", help="list, rename or remove label tasks",
        description="List the project's label tasks; rename one, or remove one made by mistake (e.g. a metadata "
        "column that import-labels took for labels).",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.set_defaults(func=cmd_tasks_list)
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    q = actions.add_parser("list", help="every task with its labels and predictions (the default)")
    q.set_defaults(func=cmd_tasks_list)
    q = actions.add_parser("rename", help="give a task a new name (labels, predictions and history move with it)")
    q.add_argument("old")
    q.add_argument("new")
    q.set_defaults(func=cmd_tasks_rename)
    q = actions.add_parser(
        "remove", help="delete a task's labels, predictions and history (asks for --yes)",
        description="Delete a task: its labels, predictions and their history. A CSV of its current labels and "
        "predictions is written beside the project first; `micview import-labels` brings the labels back.",
    )  # fmt: skip
    q.add_argument("name")
    q.add_argument("--yes", action="store_true", help="really remove it")
    q.add_argument(
        "--keep-as-field", action="store_true",
        help="keep the labels as a metadata column of the same name (for a column taken for a task)",
    )  # fmt: skip
    q.set_defaults(func=cmd_tasks_remove)


def cmd_tasks_list(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        tasks = task_summaries(project)
    if not tasks:
        print(f"{args.project}: no label tasks yet (import-labels, or label images in the window).")
        return 0
    rows = [(t.name, t.labels, t.predictions, t.history, _classes(t.classes)) for t in tasks]
    print(table(["task", "labels", "predictions", "history rows", "label values"], rows, indent=""))
    return 0


def _classes(classes: list[str], shown: int = 6) -> str:
    more = f", ... ({len(classes)} in all)" if len(classes) > shown else ""
    return ", ".join(classes[:shown]) + more


def cmd_tasks_rename(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        moved = rename_task(project, args.old, args.new)
    print(f"Renamed task '{args.old}' to '{args.new.strip()}' ({moved} label and prediction rows, history included).")
    return 0


def cmd_tasks_remove(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        require_task(project, args.name)
        summary = next(t for t in task_summaries(project) if t.name == args.name)
        if not args.yes:
            print(f"Task '{args.name}' has {summary.labels} labels and {summary.predictions} predictions "
                  f"({summary.history} history rows). Run again with --yes to remove it; a CSV of them is "
                  "written beside the project first.")  # fmt: skip
            return 1
        backup = _write_backup(project, args.name)
        deleted = remove_task(project, args.name, keep_as_field=args.keep_as_field)
    print(f"Removed task '{args.name}' ({deleted} rows).")
    if args.keep_as_field:
        print(f"Its {summary.labels} labels are kept as the metadata column '{args.name}'.")
    if backup:
        print(f"Its labels and predictions were saved to {backup}; to bring the labels back:\n"
              f"  micview import-labels {args.project} {backup} --tasks {args.name}")  # fmt: skip
    return 0


def _write_backup(project: Project, name: str) -> Path | None:
    header, rows = backup_rows(project, name)
    if not rows:
        return None
    slug = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = project.path.with_name(f"{project.path.stem}.task-{slug}-removed-{stamp}.csv")
    write_csv_atomic(path, header, ([csv_cell(c) for c in r] for r in rows))
    return path
