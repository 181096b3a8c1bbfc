"""The main window: welcome page, or browser + map side by side, with search, labelling, jobs and side panel.

It owns one :class:`~micview.gui.session.Session` and lays out the views that observe it; menus and keys
call the controllers (:mod:`micview.gui.controllers`). The window never writes into another view's widgets:
it only shows what the session reports (errors, notices, the viewer it asks for). Dialogs that need a
parent window (choose a folder, a file) live here too. Nothing here imports torch, umap or sklearn
(start-up stays fast; a test checks it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
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

from micview.core.store import Project
from micview.gui.browser.view import BrowserWidget
from micview.gui.controllers import Controllers
from micview.gui.jobs import JobsPanel, JobsStatus
from micview.gui.label_import_dialog import LabelReports
from micview.gui.labelling import LabelBar
from micview.gui.map_panel import MapPanel
from micview.gui.menus import build_menus
from micview.gui.notice_bar import NoticeBar
from micview.gui.panels.watch_panel import notice_actions
from micview.gui.plates import PlateView
from micview.gui.safety import project_safety
from micview.gui.safety_banner import ProjectBanner
from micview.gui.safety_dialogs import SafetyActions
from micview.gui.session import Session
from micview.gui.settings import Settings
from micview.gui.side_panel import SidePanel
from micview.gui.state import ErrorEntry, Notice
from micview.gui.viewer import ViewerWindow
from micview.gui.welcome import WelcomePage
from micview.gui.workers import Job

DEFAULT_SIZE = (1600, 1000)


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.session = Session(settings or Settings(), self)
        self.settings = self.session.settings
        self.ctl = Controllers.of(self.session)
        self.safety = project_safety(self.session)  # read-only, damage, the core's warnings → status bar
        self.safety_actions = SafetyActions(self.session, self)
        self.viewer: ViewerWindow | None = None
        self.setWindowTitle("micview")
        self.setAcceptDrops(True)
        self._fit_to_screen()
        self._build_pages()
        self._build_docks()
        self.menus = build_menus(self)
        self._build_shortcuts()
        self._connect()
        self._on_project_changed(None)
        self._on_safety_changed()

    def _fit_to_screen(self) -> None:
        screen = QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        w, h = DEFAULT_SIZE
        if avail is not None:
            w, h = min(w, avail.width()), min(h, avail.height())
        self.resize(w, h)

    # -- construction -----------------------------------------------------------------------------------------
    def _build_pages(self) -> None:
        s = self.session
        self.welcome = WelcomePage()
        self.browser = BrowserWidget(s)
        self.map_panel = MapPanel(s)
        self.scatter = self.map_panel.scatter
        self.label_bar = LabelBar(s)
        self.split = QSplitter()
        self.split.addWidget(self.browser)
        self.split.addWidget(self.map_panel)
        self.split.setSizes([900, 700])
        self.split.setChildrenCollapsible(False)
        workspace = QWidget()
        col = QVBoxLayout(workspace)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        self.banner = ProjectBanner(s)
        col.addWidget(self.banner)
        col.addWidget(self.label_bar)
        self.plate_view = PlateView(s)
        self.central_tabs = QTabWidget(documentMode=True)
        self.central_tabs.addTab(self.split, "Images")
        self.central_tabs.addTab(self.plate_view, "Plates")
        col.addWidget(self.central_tabs, 1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(workspace)
        self.setCentralWidget(self.pages)
        from micview.gui.search_bar import SearchBar

        self.search_bar = SearchBar(s)
        self.toolbar = QToolBar("Search", movable=False)
        self.toolbar.addWidget(self.search_bar)
        self.addToolBar(self.toolbar)

    def _build_docks(self) -> None:
        self.side_panel = SidePanel(self.session)
        self.side_panel.setMinimumWidth(260)
        self.side_dock = self._dock("Details", self.side_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.jobs_panel = JobsPanel(self.session.jobs)
        self.jobs_dock = self._dock("Background jobs", self.jobs_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.jobs_dock], [130], Qt.Orientation.Vertical)
        self.resizeDocks([self.side_dock], [340], Qt.Orientation.Horizontal)
        self.jobs_dock.hide()
        toggle = QToolButton(text="Jobs ▴", autoRaise=True, toolTip="Show or hide the background jobs")
        toggle.clicked.connect(lambda: self.jobs_dock.setVisible(not self.jobs_dock.isVisible()))
        self.notice_bar = NoticeBar({
            "import_errors": self.show_import_errors, "embed": self.ctl.maps.embed,
            "undo": self.session.undo_stack.undo, "models": self.show_models_dialog,
            **notice_actions(self.session, self.side_dock, self.side_panel),
        })  # fmt: skip
        actions = self.safety_actions
        self.notice_bar.handlers.update(salvage=actions.ask_salvage, backups=actions.show_backups)
        self.label_reports = LabelReports(self.session, self)  # a label import's report, and importing again
        self.notice_bar.handlers["label_report"] = self.label_reports.show
        self.statusBar().addWidget(self.notice_bar, 1)
        self.statusBar().addPermanentWidget(JobsStatus(self.session.jobs, toggle))

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=title)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_shortcuts(self) -> None:
        labelling = self.ctl.labelling
        for k in range(1, 10):
            QShortcut(QKeySequence(str(k)), self, lambda i=k - 1: labelling.assign(i))
        for key in ("0", "Backspace"):
            QShortcut(QKeySequence(key), self, labelling.remove)

    def _connect(self) -> None:
        w, s = self.welcome, self.session
        w.new_requested.connect(self.ask_new_project)
        w.open_requested.connect(self.ask_open_project)
        w.sample_requested.connect(self.ctl.project.open_sample)
        w.recent_chosen.connect(self.ctl.project.open_async)  # the slow part of an open runs as a job
        s.project_changed.connect(self._on_project_changed)
        self.safety.changed.connect(self._on_safety_changed)
        self.safety.waiting.connect(self._on_waiting)
        s.errors.reported.connect(self._on_error_reported)
        s.noticed.connect(self._on_notice)
        s.status_posted.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        s.viewer_requested.connect(self._on_viewer_requested)
        s.jobs.added.connect(lambda _job: self.jobs_dock.show())
        self.search_bar.models_requested.connect(self.show_models_dialog)

    # -- observers ------------------------------------------------------------------------------------------------
    def _on_project_changed(self, project: Project | None) -> None:
        if project is None:
            self.setWindowTitle("micview")
            self.welcome.set_recent(self.settings.recent)
            self.pages.setCurrentIndex(0)
            self.side_dock.hide()
        else:
            self.setWindowTitle(f"{project.path.stem} — micview")
            self.pages.setCurrentIndex(1)
            self.side_dock.show()
        for item in (self.label_bar, self.toolbar, *self.menus.need_project):
            item.setEnabled(project is not None)
        self.menus.fill_recent()

    def _on_safety_changed(self) -> None:
        """What writes is enabled only while the open project can be written (the banner says why not)."""
        for item in self.menus.need_writable:
            item.setEnabled(self.safety.writable)

    def _on_waiting(self, text: str) -> None:
        """Painted at once: the wait may be on this thread (a label write), which paints nothing until it ends."""
        self.statusBar().showMessage(text, 30_000)
        self.statusBar().repaint()

    def _on_error_reported(self, entry: ErrorEntry) -> None:
        """Non-blocking: a MicviewError shows its text; a bug adds the traceback as details."""
        self.statusBar().showMessage(entry.message, 20_000)
        if not entry.popup:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, entry.title, entry.message, parent=self)
        if entry.details:
            box.setDetailedText(entry.details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_notice(self, notice: Notice) -> None:
        self.statusBar().clearMessage()  # the newest wins: a brief message would be painted over the notice
        self.notice_bar.show_notice(notice)

    def _on_viewer_requested(self, image_id: int) -> None:
        if self.viewer is None:
            self.viewer = ViewerWindow(self.session)
        self.viewer.show_image(image_id)
        self.viewer.show()
        self.viewer.raise_()

    # -- what the menus and the welcome page ask ------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self.session.project

    @property
    def last_error(self) -> tuple[str, str] | None:
        entry = self.session.errors.last
        return (entry.message, entry.details) if entry else None

    def open_project(self, path: str | Path) -> bool:
        """Open ``path`` in this window, on this thread; errors are shown, never raised (tests and scripts: the
        menus, the welcome page and ``micview PROJECT`` use ``ctl.project.open_async``, which keeps the window live)."""
        return self.ctl.project.open(path)

    def ask_new_project(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, "Folder of images for the new project")
        if folder:
            self.ctl.project.new_from_folder(Path(folder))

    def ask_open_project(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from micview.core.store import PROJECT_SUFFIX

        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", f"micview projects (*{PROJECT_SUFFIX})")
        if path:
            self.ctl.project.open_async(path)

    def show_import_errors(self) -> None:
        from micview.gui.dialogs import ImportErrorsDialog

        dialog = ImportErrorsDialog(self.ctl.project.import_errors(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.import_errors_dialog = dialog

    def show_models_dialog(self) -> None:
        """The Models dialog (one per window, not modal): installed models, add a folder, download, remove."""
        from micview.gui.models_dialog import ModelsDialog

        if getattr(self, "models_dialog", None) is None:
            self.models_dialog = ModelsDialog(self.session, self)
        self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()

    # -- drag and drop ---------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        from micview.gui.dropped import dropped_paths

        paths = dropped_paths(event.mimeData())  # names that are not UTF-8 too (toLocalFile would mangle them)
        event.acceptProposedAction()
        self.drop_paths(paths)

    def drop_paths(self, paths: list[Path]) -> list[Job]:
        """A folder dropped with no project open starts a project from it; otherwise images and folders are
        added, and a CSV asks which of its columns are labels."""
        folders = [p for p in paths if p.is_dir()]
        if self.project is None and folders and not any(p.suffix == ".micview" for p in paths):
            job = self.ctl.project.new_from_folder(folders[0])
            return [job] if job is not None else []
        csvs = [p for p in paths if p.suffix.lower() == ".csv" and p.is_file()]
        if self.project is not None:
            from micview.gui.menus import ask_label_columns

            for csv_path in csvs:
                self.label_dialog = ask_label_columns(self, csv_path)
        return self.ctl.project.add_paths([p for p in paths if p not in csvs])

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.geometry = self.saveGeometry()
        self.session.jobs.cancel_all()
        self.session.jobs.wait(5_000)
        if self.project is not None:
            self.session.set_project(None)
        if self.viewer is not None:
            self.viewer.close()
        super().closeEvent(event)
