"""Argument types shared by the command modules: argparse rejects a bad number with usage and exit 2."""

from __future__ import annotations

import argparse

from micview.core.errors import MicviewError
from micview.core.store import Project


def positive_int(text: str) -> int:
    """An integer of at least 1 (batch sizes, worker counts, numbers of results)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


class UsageError(MicviewError):
    """A command-line value that names nothing in the project: an unknown task, label value or folder."""


def check_task(project: Project, task: str) -> None:
    """Raise :class:`UsageError` naming the project's tasks when ``task`` is not one of them."""
    names = project.labels.task_names()
    if task not in names:
        known = ", ".join(names) if names else "none yet (import labels or label some images first)"
        raise UsageError(f"No task '{task}' in {project.path.name}. Its tasks: {known}.")
