"""Small controllers over the :class:`~micview.gui.session.Session`: views act through them, never on each other.

Each is built from the session and keeps no state of its own (everything lives in the session), so any view
or panel makes the ones it needs. :class:`Controllers` bundles one of each for the main window and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from micview.gui.controllers.classify import ClassifyController
from micview.gui.controllers.label_files import LabelFilesController
from micview.gui.controllers.labelling import LabellingController
from micview.gui.controllers.maps import MapController
from micview.gui.controllers.plates import PlatesController
from micview.gui.controllers.project import ProjectController
from micview.gui.controllers.safety import SafetyController
from micview.gui.controllers.search import SearchController
from micview.gui.controllers.viewer import ViewerController
from micview.gui.session import Session


@dataclass(frozen=True)
class Controllers:
    project: ProjectController
    label_files: LabelFilesController
    labelling: LabellingController
    maps: MapController
    search: SearchController
    viewer: ViewerController
    classify: ClassifyController
    plates: PlatesController
    safety: SafetyController

    @classmethod
    def of(cls, session: Session) -> Controllers:
        return cls(
            ProjectController(session), LabelFilesController(session), LabellingController(session),
            MapController(session), SearchController(session), ViewerController(session),
            ClassifyController(session), PlatesController(session), SafetyController(session),
        )  # fmt: skip


__all__ = [
    "ClassifyController", "Controllers", "LabelFilesController", "LabellingController", "MapController",
    "PlatesController", "ProjectController", "SafetyController", "SearchController", "ViewerController",
]  # fmt: skip
