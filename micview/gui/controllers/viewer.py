"""The viewer's actions: which image to show, the previous/next one, and reading its pixels in the background."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from micview.gui import background
from micview.gui.session import Session
from micview.gui.workers import Job


class ViewerController:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(self, image_id: int | None) -> bool:
        """Ask the window to show ``image_id`` in the viewer (false when there is no such image)."""
        if image_id is None or self.session.catalog.row(image_id) is None:
            return False
        self.session.viewer_requested.emit(int(image_id))
        return True

    def open_current(self) -> bool:
        return self.open(self.session.selection.current)

    def neighbour(self, image_id: int, step: int) -> int | None:
        """The image ``step`` places after ``image_id`` in the browser's order (filter and sort applied); the
        project's order when the image is not shown there. ``None`` past either end."""
        shown = [int(i) for i in self.session.shown.ids]
        order = shown if image_id in shown else [r.id for r in self.session.catalog.rows]
        if image_id not in order:
            return None
        k = order.index(image_id) + step
        return order[k] if 0 <= k < len(order) else None

    def path_of(self, image_id: int) -> Path | None:
        row, project = self.session.catalog.row(image_id), self.session.project
        return project.images.abspath(row) if row is not None and project is not None else None

    def metadata(self, image_id: int) -> dict[str, Any]:
        project = self.session.project
        return project.images.metadata(image_id) if project is not None else {}

    def read_frame(
        self, path: Path, frame: int, on_result: Callable[[Any], None], on_error: Callable[[str, str], None]
    ) -> Job:
        """Read one frame's full-resolution pixels in the background (files can be hundreds of MB)."""
        return self.session.jobs.start(f"Read {path.name}", lambda: background.read_frame(path, frame), quiet=True,
                                       on_result=on_result, on_error=on_error)  # fmt: skip
