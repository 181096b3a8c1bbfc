"""The main window's menus. Each item calls a controller or one of the window's dialogs.

File: projects (new, open, sample, recent), adding images (folder, files), label CSVs in and out, the files
that could not be imported. Edit: undo/redo of labels, selection. Images: embeddings, map, viewer, search,
the "embed after import" preference. View: docks and tabs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

if TYPE_CHECKING:
    from micview.gui.dialogs import LabelColumnsDialog
    from micview.gui.main_window import MainWindow

EXPORT_SCOPES = (("All images…", "all"), ("Selected images…", "selection"), ("Shown images (filtered)…", "shown"))


@dataclass
class Menus:
    recent: QMenu
    fill_recent: Callable[[], None]
    open_viewer: QAction
    need_project: list[QAction | QMenu] = field(default_factory=list)
    need_writable: list[QAction] = field(default_factory=list)  # writes: off while the project is read-only


def _action(menu: QMenu, text: str, slot: Callable[[], object], key: QKeySequence | str | None = None) -> QAction:
    action = QAction(text, menu)
    if key is not None:
        action.setShortcut(QKeySequence(key) if isinstance(key, str) else key)
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(w: MainWindow) -> Menus:
    bar = w.menuBar()
    ctl, s = w.ctl, w.session
    file = bar.addMenu("&File")
    _action(file, "New project from folder…", w.ask_new_project, QKeySequence.StandardKey.New)
    _action(file, "Open project…", w.ask_open_project, QKeySequence.StandardKey.Open)
    _action(file, "Open the sample", ctl.project.open_sample)
    recent = file.addMenu("Recent projects")
    file.addSeparator()
    writable = [
        _action(file, "Add folder…", lambda: _ask_add_folder(w)),
        _action(file, "Add files…", lambda: _ask_add_files(w)),
        _action(file, "Import labels…", lambda: _ask_import_labels(w)),
    ]
    need: list[QAction | QMenu] = []
    export = file.addMenu("Export labels")
    for text, scope in EXPORT_SCOPES:
        _action(export, text, lambda sc=scope: _ask_export(w, sc))
    need += [export, _action(file, "Files that could not be imported…", w.show_import_errors)]
    file.addSeparator()
    need += [_action(file, "Save a copy…", w.safety_actions.ask_save_copy),
             _action(file, "Backups…", w.safety_actions.show_backups)]  # fmt: skip
    file.addSeparator()
    need.append(_action(file, "Close project", ctl.project.close))
    _action(file, "Quit", w.close, QKeySequence.StandardKey.Quit)

    edit = bar.addMenu("&Edit")
    undo = s.undo_stack.createUndoAction(w, "Undo")
    redo = s.undo_stack.createRedoAction(w, "Redo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Redo), QKeySequence("Ctrl+Shift+Z")])
    edit.addActions([undo, redo])
    _action(edit, "Select all shown", lambda: s.selection.set(s.shown.ids.tolist()), QKeySequence.StandardKey.SelectAll)
    _action(edit, "Clear selection", s.selection.clear, "Esc")

    images = bar.addMenu("&Images")
    writable.append(_action(images, "Compute embeddings", ctl.maps.embed, "Ctrl+E"))
    _action(images, "Recompute map", ctl.maps.refresh, "Ctrl+M")
    viewer = _action(images, "Open in viewer", ctl.viewer.open_current, "Return")
    viewer.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # Return opens it from the grid only
    w.browser.view.addAction(viewer)
    _action(images, "More like this", ctl.search.similar, "Ctrl+L")
    images.addSeparator()
    embed_after = _action(images, "Compute embeddings after each import",
                          lambda: setattr(w.settings, "embed_after_import", embed_after.isChecked()))  # fmt: skip
    embed_after.setCheckable(True)
    embed_after.setChecked(w.settings.embed_after_import)
    images.addSeparator()
    _action(images, "Models…", w.show_models_dialog)
    need.append(images.menuAction())

    view = bar.addMenu("&View")
    view.addAction(w.side_dock.toggleViewAction())
    view.addAction(w.jobs_dock.toggleViewAction())
    _action(view, "Images", lambda: w.central_tabs.setCurrentIndex(0), "Ctrl+I")
    _action(view, "Plates", lambda: w.central_tabs.setCurrentWidget(w.plate_view), "Ctrl+P")

    def fill_recent() -> None:
        recent.clear()
        for path in w.settings.recent:
            action = recent.addAction(path, lambda p=path: w.ctl.project.open_async(p))
            action.setEnabled(Path(path).exists())
        if w.settings.recent:
            recent.addSeparator()
            recent.addAction("Clear the list", lambda: (w.settings.clear_recent(), fill_recent()))
        else:
            recent.addAction("No recent projects").setEnabled(False)

    return Menus(recent, fill_recent, viewer, need, writable)


# -- dialogs ------------------------------------------------------------------------------------------------------
def _ask_add_folder(w: MainWindow) -> None:
    folder = QFileDialog.getExistingDirectory(w, "Add a folder of images")
    if folder:
        w.ctl.project.add_folder(Path(folder))


def _ask_add_files(w: MainWindow) -> None:
    files, _ = QFileDialog.getOpenFileNames(w, "Add images")
    if files:
        w.ctl.project.add_paths([Path(f) for f in files])


def _ask_import_labels(w: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(w, "Import labels from a CSV", "", "CSV files (*.csv);;All files (*)")
    if path:
        ask_label_columns(w, Path(path))


def ask_label_columns(w: MainWindow, path: Path) -> LabelColumnsDialog | None:
    """Which columns of ``path`` are label tasks (a dialog, micview's guess ticked); imports when accepted."""
    from micview.core.errors import MicviewError
    from micview.gui.dialogs import LabelColumnsDialog

    try:
        header, guessed, rows = w.ctl.label_files.preview(path)
    except (MicviewError, OSError) as exc:
        w.session.errors.report("Cannot read the CSV", str(exc))
        return None
    if "file" not in header:
        columns = ", ".join(header[:12]) + (" …" if len(header) > 12 else "")
        w.session.errors.report("No “file” column", f"{path.name} has no “file” column to match images by "
                                f"(its columns: {columns}). Name the column of file names “file”.")  # fmt: skip
        return None
    dialog = LabelColumnsDialog(path, header, guessed, rows, w)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.accepted.connect(lambda: w.ctl.label_files.import_labels(path, dialog.tasks()))
    dialog.open()
    return dialog


def _ask_export(w: MainWindow, scope: str) -> None:
    project = w.session.project
    if project is None:
        return
    suggested = str(project.path.with_suffix(".csv")) if scope == "all" else str(project.path.parent / f"{scope}.csv")
    path, _ = QFileDialog.getSaveFileName(w, "Export labels", suggested, "CSV files (*.csv)")
    if path:
        w.ctl.label_files.export(Path(path), scope)
