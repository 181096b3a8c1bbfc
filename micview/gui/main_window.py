"""The main window: welcome page, or browser + map side by side, with search, labelling, jobs and side panel.

Views never call each other: they observe the shared :class:`Selection` and :class:`Results`. This module
only builds the window and opens projects; what runs in the background is in :mod:`micview.gui.actions`.
Nothing here imports torch, umap or sklearn (start-up stays fast; a test checks it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from micview.core.errors import MicviewError
from micview.core.store import PROJECT_SUFFIX, Project
from micview.gui.actions import ActionsMixin
from micview.gui.browser.view import BrowserWidget
from micview.gui.jobs import JobsPanel, JobsStatus
from micview.gui.labelling import LabelBar, LabelController
from micview.gui.plates import PlateView
from micview.gui.scatter import ScatterWidget
from micview.gui.search_bar import SearchBar
from micview.gui.selection import Results, Selection
from micview.gui.settings import Settings
from micview.gui.side_panel import SidePanel
from micview.gui.welcome import WelcomePage
from micview.gui.workers import JobManager


class MainWindow(ActionsMixin, QMainWindow):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.project: Project | None = None
        self.selection, self.results = Selection(self), Results(self)
        self.jobs = JobManager(self)
        self.labels = LabelController(lambda: self._require_project(), self.selection, self)
        self.last_error: tuple[str, str] | None = None
        self.viewer = None
        self.setWindowTitle("micview")
        self.resize(1600, 1000)
        self._build_pages()
        self._build_docks()
        self._build_menus()
        self._build_shortcuts()
        self._connect()
        self.show_welcome()

    # -- construction -----------------------------------------------------------------------------------------
    def _build_pages(self) -> None:
        self.welcome = WelcomePage()
        self.browser = BrowserWidget(self.selection, self.results, self.settings.thumb_size)
        self.scatter = ScatterWidget(self.selection, self.results)
        self.scatter.thumbnail_for = self.browser.model.thumbnail
        self.scatter.name_for = lambda i: row.name if (row := self.browser.model.row_for_id(i)) else str(i)
        self.label_bar = LabelBar(self.labels)
        split = QSplitter()
        split.addWidget(self.browser)
        split.addWidget(self.scatter)
        split.setSizes([900, 700])
        workspace = QWidget()
        col = QVBoxLayout(workspace)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        col.addWidget(self.label_bar)
        self.plate_view = PlateView(self)
        self.central_tabs = QTabWidget(documentMode=True)
        self.central_tabs.addTab(split, "Images")
        self.central_tabs.addTab(self.plate_view, "Plates")
        col.addWidget(self.central_tabs, 1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(workspace)
        self.setCentralWidget(self.pages)
        self.search_bar = SearchBar()
        self.toolbar = QToolBar("Search", movable=False)
        self.toolbar.addWidget(self.search_bar)
        self.addToolBar(self.toolbar)

    def _build_docks(self) -> None:
        self.side_panel = SidePanel(self)
        self.side_dock = self._dock("Details", self.side_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.jobs_panel = JobsPanel(self.jobs)
        self.jobs_dock = self._dock("Background jobs", self.jobs_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.jobs_dock], [150], Qt.Orientation.Vertical)
        self.resizeDocks([self.side_dock], [330], Qt.Orientation.Horizontal)
        self.jobs_dock.hide()
        toggle = QToolButton(text="Jobs ▴", autoRaise=True)
        toggle.clicked.connect(lambda: self.jobs_dock.setVisible(not self.jobs_dock.isVisible()))
        self.statusBar().addPermanentWidget(JobsStatus(self.jobs, toggle))

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "New project from folder…", self.ask_new_project, QKeySequence.StandardKey.New)
        self._action(file, "Open project…", self.ask_open_project, QKeySequence.StandardKey.Open)
        self._action(file, "Open the sample", self.open_sample)
        self.recent_menu = file.addMenu("Recent projects")
        file.addSeparator()
        self.add_folder_action = self._action(file, "Add folder to project…", self.ask_add_folder)
        self._action(file, "Close project", self.close_project)
        self._action(file, "Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        undo = self.labels.undo_stack.createUndoAction(self, "Undo")
        redo = self.labels.undo_stack.createRedoAction(self, "Redo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Shift+Z")])
        edit.addActions([undo, redo])
        self._action(edit, "Select all shown", self.select_all_shown, QKeySequence.StandardKey.SelectAll)
        self._action(edit, "Clear selection", lambda: self.selection.clear(), QKeySequence("Esc"))
        images = bar.addMenu("&Images")
        self._action(images, "Compute embeddings", self.embed_images, QKeySequence("Ctrl+E"))
        self._action(images, "Recompute map", self.refresh_map, QKeySequence("Ctrl+M"))
        self._action(images, "Open in viewer", self.open_current, QKeySequence("Return"))
        view = bar.addMenu("&View")
        view.addAction(self.side_dock.toggleViewAction())
        view.addAction(self.jobs_dock.toggleViewAction())
        self._action(
            view, "Plates", lambda: self.central_tabs.setCurrentWidget(self.plate_view), QKeySequence("Ctrl+P")
        )
        self.menus_needing_project = [self.add_folder_action, images]

    def _action(self, menu: object, text: str, slot: object, key: object = None) -> QAction:
        action = QAction(text, self)
        if key is not None:
            action.setShortcut(key)  # type: ignore[arg-type]
        action.triggered.connect(slot)  # type: ignore[arg-type]
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    def _build_shortcuts(self) -> None:
        for k in range(1, 10):
            QShortcut(QKeySequence(str(k)), self, lambda i=k - 1: self.labels.assign(i))
        for key in ("0", "Backspace"):
            QShortcut(QKeySequence(key), self, self.labels.remove)

    def _connect(self) -> None:
        w = self.welcome
        w.new_requested.connect(self.ask_new_project)
        w.open_requested.connect(self.ask_open_project)
        w.sample_requested.connect(self.open_sample)
        w.recent_chosen.connect(self.open_project)
        self.browser.open_requested.connect(self.open_viewer)
        self.browser.size_slider.valueChanged.connect(lambda v: setattr(self.settings, "thumb_size", v))
        self.selection.changed.connect(self._on_selection_changed)
        self.labels.task_changed.connect(self._on_labels_changed)
        self.labels.labels_changed.connect(self._on_labels_changed)
        self.scatter.method_requested.connect(lambda _m: self.refresh_map())
        self.search_bar.text_search.connect(self.search_text)
        self.search_bar.similar_search.connect(self.search_similar)
        self.search_bar.model_changed.connect(self._on_model_changed)
        self.jobs.added.connect(lambda _job: self.jobs_dock.show())

    # -- pages and projects -----------------------------------------------------------------------------------
    def show_welcome(self) -> None:
        self.welcome.set_recent(self.settings.recent)
        self._fill_recent_menu()
        self.pages.setCurrentIndex(0)
        self.side_dock.hide()
        self.label_bar.setEnabled(False)
        self.toolbar.setEnabled(False)
        for item in self.menus_needing_project:
            item.setEnabled(False)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent:
            self.recent_menu.addAction(path, lambda p=path: self.open_project(p))

    def _require_project(self) -> Project:
        if self.project is None:
            raise MicviewError("No project is open.")
        return self.project

    def open_project(self, path: str | Path) -> bool:
        """Open ``path`` in this window; errors are shown, never raised."""
        try:
            project = Project.open(path)
        except MicviewError as exc:
            self.show_error("Cannot open the project", str(exc))
            return False
        self._set_project(project)
        return True

    def _set_project(self, project: Project) -> None:
        self.close_project()
        self.project = project
        self.settings.add_recent(project.path)
        self.setWindowTitle(f"{project.path.stem} — micview")
        self.pages.setCurrentIndex(1)
        self.side_dock.show()
        for item in (self.label_bar, self.toolbar, *self.menus_needing_project):
            item.setEnabled(True)
        self.search_bar.set_models(self.model_choices(), self.settings.model_id)
        self.reload_images()
        tasks = self.labels.tasks()
        self.labels.set_task(tasks[0] if tasks else "")
        self.refresh_map()
        self.side_panel.project_changed()

    def close_project(self) -> None:
        if self.project is None:
            return
        self.jobs.cancel_all()
        self._map_generation += 1  # maps still computing for this project are dropped when they arrive
        self.selection.clear()
        self.results.clear()
        self.labels.undo_stack.clear()
        self.browser.model.set_project(None)
        self.scatter.set_map([], [])
        self.project.close()
        self.project = None
        self.show_welcome()

    def reload_images(self) -> None:
        """Re-read the image list (after an import) and the labels of the active task."""
        self.browser.model.set_project(self.project)
        self._on_labels_changed()
        self.plate_view.mark_stale()

    # -- dialogs ------------------------------------------------------------------------------------------------
    def ask_new_project(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of images for the new project")
        if folder:
            self.new_project_from_folder(Path(folder))

    def ask_open_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", f"micview projects (*{PROJECT_SUFFIX})")
        if path:
            self.open_project(path)

    def ask_add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images")
        if folder:
            self.import_folder(Path(folder))

    def show_error(self, title: str, message: str, details: str = "") -> None:
        """Non-blocking message: a MicviewError shows its text; a bug adds the traceback as details."""
        self.last_error = (message, details)
        self.statusBar().showMessage(message, 15_000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        if details:
            box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.geometry = self.saveGeometry()
        self.jobs.cancel_all()
        self.jobs.wait(5_000)
        if self.project is not None:
            self.project.close()
            self.project = None
        if self.viewer is not None:
            self.viewer.close()
        super().closeEvent(event)
