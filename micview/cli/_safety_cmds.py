"""Keeping a project safe: check, salvage, copy, backup, backups, restore."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from micview.cli._table import table
from micview.core.errors import ProjectError
from micview.core.store.backup import backup_project, copy_project, list_backups, restore_backup
from micview.core.store.integrity import check_project
from micview.core.store.salvage import salvage


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check", help="look for damage in a project file",
        description="Check a project file (SQLite integrity, schema, links between tables) without changing it. "
        "Exit 0 when intact, 1 when damaged.",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("--quick", action="store_true", help="SQLite's quick_check instead of the full integrity_check")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "salvage", help="copy what is readable from a damaged project into a new one",
        description="Copy every readable row of a damaged project into a new project file; the damaged file is "
        "only read. Says what could not be recovered.",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("new", type=Path, help="the new .micview file to write")
    p.set_defaults(func=cmd_salvage)

    p = sub.add_parser(
        "copy", help="write a consistent one-file copy of a project",
        description="Copy a project to one file, consistent even while another micview has it open "
        "(changes still in the -wal file included).",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("dest", type=Path, help="a new .micview file, or a folder")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_copy)

    p = sub.add_parser(
        "backup", help="back up a project now",
        description="Make a backup beside the project, in .micview-backups/ (kept until you delete it).",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "backups", help="list a project's backups",
        description="List the backups beside a project, newest first; restore one with: micview restore PROJECT N",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.set_defaults(func=cmd_backups)

    p = sub.add_parser(
        "restore", help="put a backup back into a project",
        description="Restore a backup into the project. What the project holds now is backed up first "
        "(reason 'before-restore'), so a restore can be undone the same way.",
    )  # fmt: skip
    p.add_argument("project", type=Path)
    p.add_argument("backup", help="the number shown by 'micview backups', or a backup file")
    p.add_argument("--force", action="store_true", help="restore even a backup that is damaged itself")
    p.set_defaults(func=cmd_restore)


def cmd_check(args: argparse.Namespace) -> int:
    report = check_project(args.project, quick=args.quick)
    if args.json:
        out = {"project": str(report.path), "ok": report.ok, "problems": list(report.problems),
               "tables": list(report.checked), "seconds": round(report.seconds, 3)}  # fmt: skip
        json.dump(out, sys.stdout, indent=2)
        print()
    elif report.ok:
        print(f"{report.path}: intact ({len(report.checked)} tables checked in {report.seconds:.1f} s)")
    else:
        print(f"{report.path} is DAMAGED:")
        for problem in report.problems:
            print(f"  {problem}")
        print(f"micview opens it read-only. Copy what is readable: micview salvage {report.path} NEW.micview")
        if list_backups(report.path):
            print(f"Or restore a backup: micview backups {report.path}")
    return 0 if report.ok else 1


def cmd_salvage(args: argparse.Namespace) -> int:
    report = salvage(args.project, args.new)
    print(f"Salvaged {args.project} into {report.dest}:")
    for t in report.tables:
        if t.copied or not t.intact:
            print(f"  {t.describe()}")
    if report.complete:
        print("Every row was recovered.")
    else:
        print("Rows listed as unreadable or dropped are not in the new file; the damaged file is unchanged.")
    if report.health is not None and not report.health.ok:
        print(f"The new file has problems too: {report.health.describe_damage()}")
        return 1
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    dest = copy_project(args.project, args.dest, overwrite=args.force)
    print(f"Copied {args.project} to {dest} ({dest.stat().st_size / 1e6:.1f} MB, one file)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    path = backup_project(args.project)
    print(f"Backed up to {path}")
    return 0


def cmd_backups(args: argparse.Namespace) -> int:
    backups = list_backups(args.project)
    if not backups:
        print(f"No backups of {args.project} yet (make one with: micview backup {args.project}).")
        return 0
    rows = [
        (i, b.created.astimezone().strftime("%Y-%m-%d %H:%M:%S"), b.reason, f"{b.size_bytes / 1e6:.1f} MB", b.path.name)
        for i, b in enumerate(backups, start=1)
    ]
    print(table(["#", "made (local time)", "why", "size", "file"], rows))
    print(f"Restore one with: micview restore {args.project} NUMBER")
    return 0


def _pick(project: Path, choice: str) -> Path:
    if choice.isdigit():
        backups = list_backups(project)
        if not 1 <= int(choice) <= len(backups):
            raise ProjectError(f"there is no backup number {choice}; micview backups {project} lists them.")
        return backups[int(choice) - 1].path
    path = Path(choice)
    if not path.is_file():
        raise ProjectError(f"{path}: no such backup file.")
    return path


def cmd_restore(args: argparse.Namespace) -> int:
    result = restore_backup(args.project, _pick(args.project, args.backup), force=args.force)
    print(f"Restored {result.project} from {result.restored_from.name}.")
    if result.previous is not None:
        print(f"What it held before is kept as {result.previous}")
    return 0
