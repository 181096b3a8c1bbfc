"""Which image a CSV row means, with one rule above all: a row never lands on the wrong image.

* A value with a folder part (``plateB/000002.jpg``) means exactly that path, relative to the project or to the
  CSV's folder (or absolute). If neither names an image, the row matches nothing: ``plateA/000002.jpg`` is a
  different image, however alike the names.
* A bare file name (``000002.jpg``) is looked up the same way first, then by file name anywhere in the
  project, but only when exactly one image has that name.
* A value that could mean two images (the project-relative and the CSV-relative reading disagree, or a bare
  name several images share) is ambiguous, and matches nothing.

``names="any"`` also joins a path whose folders are not found by its file name (when unique): for a CSV
written on another computer with another folder layout, and only when the user asks for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from micview.core.store import Project
from micview.core.store.paths import decode_path, stored_path

Match = int | list[int] | None  # one image id, the ids it could mean (ambiguous), or none


class ImageMatcher:
    """Finds the image a CSV row means (see the module docstring for the rules)."""

    def __init__(self, project: Project, csv_dir: Path, *, names: Literal["bare", "any"] = "bare") -> None:
        self._project = project
        self._csv_dir = csv_dir
        self._names = names
        self._by_path = project.images.ids_by_stored_path()
        by_name: dict[str, list[int]] = {}
        for stored, image_id in self._by_path.items():
            by_name.setdefault(stored.rsplit("/", 1)[-1], []).append(image_id)
        self._by_name = by_name

    def match(self, value: str) -> Match:
        """The image ``value`` names; stray spaces around it are tolerated when the exact text finds nothing."""
        found = self._match(value)
        if found is None and value.strip() != value:
            found = self._match(value.strip())
        return found

    def _match(self, value: str) -> Match:
        if not value:
            return None
        v = value.replace("\\", "/")
        while v.startswith("./"):
            v = v[2:]
        # the stored spelling as micview exports it (any name, backslashes too), the same path with "/", and
        # the path read from the CSV's folder: two different images among them make the row ambiguous
        readings = (self._by_path.get(value), self._by_path.get(v), self._by_path.get(self._csv_relative(v)))
        ids = {i for i in readings if i is not None}
        if len(ids) == 1:
            return ids.pop()
        if ids:
            return sorted(ids)
        if "/" in v and self._names == "bare":
            return None
        same_name = self._by_name.get(v.rsplit("/", 1)[-1], [])
        return same_name[0] if len(same_name) == 1 else (same_name or None)

    def _csv_relative(self, v: str) -> str:
        """The stored path ``v`` names when read relative to the CSV's folder (``..`` resolved)."""
        return stored_path(self._project, os.path.normpath(self._csv_dir.absolute() / decode_path(v)))
