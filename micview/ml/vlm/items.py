"""Multiple-choice question sets: from a CSV (two layouts) or from a label task of the project.

* Explicit: columns ``image, question, options, answer``; options separated by ``|`` (or a JSON list), the
  answer a letter or an option's text.
* Label columns (the reference project's ``qa.csv``: ``image_local_path, categories, technique``): one column
  is the task; the options are the column's distinct values (sorted) unless given, and the question is the
  task's standard question.
* A project task: the images with a user label, the task's classes (as defined in the project) as options.

Rows are joined to the project's images like ``import-labels`` does (path, path relative to the CSV, or the
file name when unique); rows that match nothing are reported, not fatal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from micview.core.errors import CsvError
from micview.core.store import Project
from micview.ml.vlm.prompts import LETTERS, MAX_OPTIONS, task_question

IMAGE_COLUMNS = ("image", "file", "image_local_path", "path", "image_path")


@dataclass(frozen=True, slots=True)
class McqItem:
    """One question: ``answer`` is the index of the correct option (``None`` when unknown)."""

    key: str
    image_id: int
    question: str
    options: tuple[str, ...]
    answer: int | None


@dataclass
class McqSet:
    items: list[McqItem]
    task: str | None = None
    unmatched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # rows without an answer among the options

    def digest(self) -> str:
        """Identifies the question set in an evaluation's recipe (so a re-run resumes the same one)."""
        data = [(i.key, i.image_id, i.question, i.options, i.answer) for i in self.items]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]


def _options(project: Project | None, task: str, values: Sequence[str]) -> tuple[str, ...]:
    """The task's classes as defined in ``project`` (when given and covering every value), else the values."""
    defined = project.labels.task(task) if project is not None else None
    present = sorted(set(values))
    classes = tuple(defined.classes) if defined and set(present) <= set(defined.classes) else tuple(present)
    if not 2 <= len(classes) <= MAX_OPTIONS:
        raise CsvError(
            f"task '{task}' has {len(classes)} classes; a multiple-choice question needs 2 to {MAX_OPTIONS}."
        )
    return classes


def _split_options(text: str) -> tuple[str, ...]:
    if text.startswith("["):
        return tuple(str(o) for o in json.loads(text))
    return tuple(o.strip() for o in text.split("|") if o.strip())


def _answer_index(answer: str, options: Sequence[str]) -> int | None:
    a = answer.strip()
    if len(a) == 1 and a.upper() in LETTERS[: len(options)]:
        return LETTERS.index(a.upper())
    return options.index(a) if a in options else None


def read_csv_items(
    project: Project,
    path: str | Path,
    task: str | None = None,
    question: str | None = None,
    options: Sequence[str] | None = None,
) -> McqSet:
    """The questions of a CSV in either layout (see the module docstring).

    With a label column the options are ``options`` when given, else the column's distinct values (as the
    reference project did: its qa.csv rows define the classes, not the project's finer label set).
    """
    from micview.core.csv_io import ImageMatcher, read_csv

    path = Path(path)
    header, rows = read_csv(path)
    image_col = next((c for c in IMAGE_COLUMNS if c in header), None)
    if image_col is None:
        raise CsvError(f"{path}: no image column (expected one of {', '.join(IMAGE_COLUMNS)}).")
    explicit = {"question", "options", "answer"} <= set(header) and task is None
    if not explicit and (task is None or task not in header):
        others = [c for c in header if c != image_col]
        raise CsvError(f"{path}: choose the task column with --task (one of: {', '.join(others)}).")
    matcher, out = ImageMatcher(project, path.parent, names="any"), McqSet([], task)
    if not explicit and options is None:
        options = _options(None, task or "", [r[task or ""] for r in rows if r[task or ""]])
    options = tuple(options or ())
    for n, r in enumerate(rows):
        image_id = matcher.match(r[image_col])
        if not isinstance(image_id, int):
            out.unmatched.append(r[image_col])
            continue
        key = f"{n}:{r[image_col]}"
        if explicit:
            opts = _split_options(r["options"])
            item = McqItem(key, image_id, r["question"], opts, _answer_index(r["answer"], opts))
        else:
            item = McqItem(
                key, image_id, question or task_question(task or ""), options, _answer_index(r[task or ""], options)
            )
        if item.answer is None:
            out.skipped.append(key)
        else:
            out.items.append(item)
    return out


def project_items(project: Project, task: str, question: str | None = None) -> McqSet:
    """Every image with a user label for ``task``, asked to choose among the task's classes."""
    labels = project.labels.labels(task)
    if not labels:
        raise CsvError(f"No image of this project has a '{task}' label; label some or give --csv.")
    options = _options(project, task, list(labels.values()))
    q = question or task_question(task)
    items = [McqItem(f"image:{i}", i, q, options, options.index(lab)) for i, lab in sorted(labels.items())]
    return McqSet(items, task)
