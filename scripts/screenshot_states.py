"""The states scripts/screenshots.py puts the window in, driven through the session and its controllers as the
menus and buttons do. Real data (``RealStates``) or the generated sample (``SampleStates``)."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt
from screenshots import pump, settle, wait_job


class States:
    def __init__(self, app, window, shots, tmp: Path, args) -> None:
        self.app, self.w, self.shots, self.tmp, self.args = app, window, shots, tmp, args
        self.s, self.ctl = window.session, window.ctl
        self.readme_shot: Path | None = None

    # -- helpers --------------------------------------------------------------------------------------------
    def wait_map(self, n: int) -> None:
        pump(self.app, lambda: self.s.map.data is not None and len(self.s.map.data.ids) == n, 900)
        if self.args.umap:
            pump(self.app, lambda: self.s.map.data.method == "umap", 900)
        pump(self.app, lambda: not [j for j in self.s.jobs.running() if not j.quiet], 900)

    def quiet(self) -> None:
        """No dock of finished jobs: the window as a user sees it once work is done."""
        self.w.jobs_dock.hide()
        self.w.jobs_panel.clear_finished()

    def side_tab(self, name: str) -> None:
        panel = self.w.side_panel
        panel.setCurrentIndex(next(i for i in range(panel.count()) if panel.tabText(i) == name))

    def select_cluster(self, ids: list[int]) -> None:
        """Box-select the points of ``ids`` on the map, as a drag of the Box tool does."""
        scatter = self.w.scatter
        xy = scatter.xy[np.isin(scatter.ids, ids)]
        lo, hi = np.percentile(xy, 20, axis=0), np.percentile(xy, 80, axis=0)
        box = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
        scatter.vb.region_selected.emit(box, Qt.KeyboardModifier.NoModifier)

    def more_like_this(self, image_id: int) -> None:
        self.s.selection.set([image_id])
        self.ctl.search.similar()
        pump(self.app, lambda: self.s.results.active)

    def viewer(self, name: str, row, line: tuple[float, float, float, float] | None = None,
               cursor: tuple[float, float] = (0.6, 0.4)) -> None:  # fmt: skip
        """The viewer on ``row``; ``line`` (x0, y0, x1, y1 as fractions of the image) draws a profile."""
        self.ctl.viewer.open(row.id)
        v = self.w.viewer
        v.resize(*self.shots.size)
        pump(self.app, lambda: v.image.size > 0 and v.row is not None and v.row.id == row.id)
        v.metadata.expandAll()
        v.profile_button.setChecked(line is not None)
        h, wd = v.image.shape[:2]
        step = v.step_m or 1.0
        if line is not None:
            x0, y0, x1, y1 = line
            for handle, (x, y) in zip(v.line.getHandles(), ((x0, y0), (x1, y1)), strict=True):
                v.line.movePoint(handle, QPointF(x * wd * step, y * h * step), finish=False, coords="parent")
        settle(self.app)
        scene = v.image_view.getView().mapViewToScene(QPointF(wd * cursor[0] * step, h * cursor[1] * step))
        v._on_mouse_moved(scene)  # the readout as with the cursor there
        self.shots.save(name, v)
        v.profile_button.setChecked(False)
        v.hide()

    def jobs_running(self, name: str) -> None:
        from micview.core.tasks import Progress

        def long_import():  # a stand-in for a long import: real progress, real cancel button
            for i in range(10_000):
                time.sleep(0.01)
                yield Progress(i, 10_000, f"plate-B07/drop_{i:05d}.tif")

        self.w.jobs_panel.clear_finished()
        job = self.s.jobs.start("Import plate-B07", long_import)
        pump(self.app, lambda: job.progress.done > 1_500)
        self.w.jobs_dock.show()
        self.shots.save(name, self.w)
        job.cancel()
        pump(self.app, lambda: job.done)
        self.quiet()

    def safety(self, source: Path, first: int) -> None:
        """The read-only banner (a copy of ``source`` in a read-only folder) and the damaged one (a copy with 4 KB
        of random bytes written into its middle, as a failing disk does), then the damaged copy's backups."""
        import random
        import shutil

        from micview.core.store import backup_project

        self.ctl.project.close()
        ro = self.tmp / "read-only" / source.name
        ro.parent.mkdir()
        shutil.copy2(source, ro)
        with read_only_place(ro.parent) as ok:
            if ok:
                assert self.ctl.project.open(ro) and self.s.project.read_only
                self.wait_map(len(self.s.catalog))
                self.quiet()
                self.shots.save(f"{first:02d}-read-only-banner", self.w)
                self.ctl.project.close()
            else:
                print("no way to make a folder read-only here: the read-only banner is not shown", flush=True)
        damaged = self.tmp / "damaged" / source.name
        damaged.parent.mkdir()
        shutil.copy2(source, damaged)
        backup_project(damaged)
        with damaged.open("r+b") as f:
            f.seek(damaged.stat().st_size // 2)
            f.write(random.Random(11).randbytes(4096))
        assert self.ctl.project.open(damaged) and self.s.project.read_only
        pump(self.app, lambda: not [j for j in self.s.jobs.running() if not j.quiet], 900)
        self.quiet()
        self.shots.save(f"{first + 1:02d}-damaged-banner", self.w)
        dialog = self.w.banner.safety_actions.show_backups()
        self.shots.save(f"{first + 2:02d}-backups", self.w, over=dialog)
        dialog.close()
        self.ctl.project.close()

    def models(self, name: str) -> None:
        """The Models dialog after Download on a computer without internet: what to run elsewhere, at once."""
        import os

        os.environ["HF_HUB_OFFLINE"] = "1"  # never a real download from a screenshot run
        self.w.show_models_dialog()
        dialog = self.w.models_dialog
        dialog.recommended_table.selectRow(0)
        dialog.pull_button.click()
        pump(self.app, lambda: dialog.job is None)
        self.quiet()
        self.shots.save(name, self.w, over=dialog)
        dialog.close()

    def watching(self, name: str, sources: list[Path], rules: str) -> None:
        """The Watch tab while a folder is watched: the images saved into it arrived (NEW chips in the grid, rings
        on the map), some raised alerts (listed in the tab and the status bar). Each source is saved as a new
        acquisition, turned a quarter and cropped, so it is new to the project but like what it knows."""
        from PIL import Image

        from micview.gui.watch_state import watch_state

        folder = self.tmp / "microscope"
        folder.mkdir()
        rows = len(self.s.catalog) + len(sources)
        panel, state = self.w.side_panel.panel_named("Watch"), watch_state(self.s)
        self.side_tab("Watch")
        panel.folder.setText(str(folder))
        panel.rules.setText(rules)
        panel.toggle.click()
        pump(self.app, lambda: state.status.startswith("Watching"), 900)
        for k, source in enumerate(sources):
            img = Image.open(source).convert("RGB").rotate(90, expand=True)
            w, h = img.size
            part = folder / f".acq_{k + 1:04d}.png"  # written under a hidden name, then renamed, as instruments do
            img.crop((w // 10, h // 10, w - w // 10, h - h // 10)).save(part)
            part.rename(folder / f"acq_{k + 1:04d}.png")
        pump(self.app, lambda: len(state.new_ids) == len(sources) and len(self.s.catalog) == rows, 900)
        self.quiet()
        self.w.browser.view.scrollToBottom()  # the newest images, with their NEW chips
        self.shots.save(name, self.w)
        panel.toggle.click()
        pump(self.app, lambda: not state.running, 300)
        self.quiet()

    def plates(self, name: str, sources: list[Path]) -> None:
        from PIL import Image
        from screenshots_plates import make_plate, predict

        images = [Image.open(p).convert("RGB") for p in sources]
        make_plate(self.tmp / "plates", images)
        wait_job(self.app, self.ctl.project.new_from_folder(self.tmp / "plates", self.tmp / "plates.micview"))
        predict(self.s.project)
        self.s.labels_changed.emit("outcome")
        self.quiet()
        self.w.central_tabs.setCurrentWidget(self.w.plate_view)
        view = self.w.plate_view
        view.reload()
        view.review.order_combo.setCurrentText("Review order")
        view.set_scoring(True)
        for k in [2, 2, 1, 3, 2, 4, 1, 1, 3, 2] * 3:
            view.score_current(k - 1)
        self.shots.save(name, self.w)
        view.set_scoring(False)
        self.w.central_tabs.setCurrentIndex(0)


def copy_as(source: Path, folder: Path, how: str) -> None:
    """A copy of ``source`` in ``folder`` as one finds them in a dataset: resized to half, re-saved as JPEG quality
    30, or cropped to the central 80 %."""
    from PIL import Image

    with Image.open(source) as opened:
        im = opened.convert("RGB")
    w, h = im.size
    if how == "half":
        im.resize((w // 2, h // 2), Image.Resampling.LANCZOS).save(folder / f"half_{source.stem}.png")
    elif how == "q30":
        im.save(folder / f"q30_{source.stem}.jpg", quality=30)
    else:
        im.crop((w // 10, h // 10, w - w // 10, h - h // 10)).save(folder / f"crop_{source.stem}.png")


@contextlib.contextmanager
def read_only_place(folder: Path) -> Iterator[bool]:
    """``folder`` made read-only as a user meets it (a read-only bind mount as root, else no write permission);
    yields False where that is not possible."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            yield True
        finally:
            folder.chmod(mode)
        return
    run = lambda *a: subprocess.run(list(a), capture_output=True).returncode == 0  # noqa: E731
    if not (run("mount", "--bind", str(folder), str(folder)) and run("mount", "-o", "remount,ro,bind", str(folder))):
        yield False
        return
    try:
        yield True
    finally:
        run("umount", "-l", str(folder))


class RealStates(States):
    """miclib with its manifest's labels; formats/ for the viewer and import errors; crystals/ for plates."""

    def run(self) -> None:
        data = self.args.data
        self.miclib(data / "miclib")
        drop = data / "crystals" / "images" / "marco_gsk_10.jpg"  # nothing like the micrographs: "far"
        new = [*sorted((data / "miclib" / "images").glob("*.jpg"))[::40][:8], drop]
        self.watching("24-watching-alerts", new, "far; Scanning electron microscopy (SEM)>=0.6")
        self.safety(self.tmp / "miclib.micview", 15)
        self.formats(data / "formats")
        self.plates("14-plates", sorted((data / "crystals" / "images").glob("*.jpg")))
        self.models("18-models-offline")

    def miclib(self, folder: Path) -> None:
        s, ctl, shots = self.s, self.ctl, self.shots
        assert ctl.project.create(self.tmp / "miclib.micview")
        wait_job(self.app, ctl.project.add_folder(folder / "images"))
        wait_job(self.app, ctl.label_files.import_labels(folder / "manifest.csv", ["technique", "category"]))
        ctl.labelling.set_task("technique")
        wait_job(self.app, ctl.maps.embed())
        self.wait_map(len(s.catalog))
        self.quiet()
        shots.save("02-browser-technique-labels", self.w)

        sem = [r.id for r in s.catalog.rows if "(SEM)" in (s.project.labels.labels("technique").get(r.id) or "")]
        self.select_cluster(sem)
        self.readme_shot = shots.save("03-map-selection", self.w)

        self.w.browser.text_edit.setText('technique:"scanning electron"')
        self.w.browser.text_edit.returnPressed.emit()
        shots.save("04-filter-column-value", self.w)
        self.w.browser.text_edit.setText("")
        self.w.browser.text_edit.returnPressed.emit()

        self.more_like_this(s.catalog.rows[40].id)
        shots.save("05-search-more-like-this", self.w)
        s.results.clear()

        self.classify()
        self.suggest("19-classify-suggest")
        self.side_tab("VQA")
        self.w.side_panel.panel_named("VQA").load_button.click()  # no VLM here: what the user is told
        pump(self.app, lambda: not [j for j in s.jobs.running()])
        shots.save("07-vqa", self.w)
        self.quiet()
        self.analysis("08-analysis", "20-analysis-matrix-click")
        self.quality(21)
        self.side_tab("Info")
        self.jobs_running("09-jobs-running")

    def classify(self) -> None:
        panel = self.w.side_panel.panel_named("Classify")
        self.side_tab("Classify")
        panel.task_box.setCurrentText("technique")
        panel.model_box.setCurrentText("effnet-lite0")
        panel.grouped.setChecked(True)
        panel.run_button.click()
        pump(self.app, lambda: not self.s.classify.busy, 900)
        panel.eval_button.click()
        pump(self.app, lambda: not self.s.classify.busy, 900)
        self.s.selection.set([self.s.catalog.rows[7].id])
        self.quiet()
        scroll = panel.parentWidget().parentWidget()  # the tab's scroll area: down to the confusion matrix
        scroll.ensureWidgetVisible(panel.confusion)
        self.shots.save("06-classify-after-run", self.w)

    def analysis(self, name: str, matrix_name: str) -> None:
        """The Analysis tab after Analyse on the grouped techniques (default model: the image side), then the
        image-image matrix with a Shift+click on the block of two techniques (their images selected)."""
        from PySide6.QtTest import QTest

        from micview.gui.panels.analysis_sections import ImageSideSection, MatrixSection

        panel = self.w.side_panel.panel_named("Analysis")
        self.side_tab("Analysis")
        panel.refresh()
        panel.model_box.setCurrentText("effnet-lite0")
        panel.task_box.setCurrentText("technique_group")
        panel.run_button.click()
        pump(self.app, lambda: panel.job is None, 900)
        self.quiet()
        scroll = panel.parentWidget().parentWidget()
        scroll.ensureWidgetVisible(panel.section(ImageSideSection).spread, 0, 0)
        self.shots.save(name, self.w)
        section = panel.section(MatrixSection)
        scroll.ensureWidgetVisible(section.figure.readout, 0, 0)
        settle(self.app)
        a, b = section.bounds[0], section.bounds[1]
        cell = section.plot.cell_centre((a[1] + a[2]) // 2, (b[1] + b[2]) // 2).toPoint()
        QTest.mouseMove(section.plot.viewport(), cell)
        QTest.mouseClick(section.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, cell)
        self.shots.save(matrix_name, self.w)

    def quality(self, first: int) -> None:
        """The Quality view after Check quality on the technique labels, with four micrographs copied into another
        folder (resized to half, re-saved as JPEG quality 30, cropped to 80 %: a train/test leak): duplicates side by
        side, suspected label mistakes with the suggested label, then the map coloured by the outlier score."""
        s, panel = self.s, self.w.side_panel.panel_named("Analysis")
        copies = self.tmp / "copies"
        copies.mkdir()
        for how, row in zip(("half", "q30", "crop", "half"), s.catalog.rows[10:50:10], strict=True):
            copy_as(s.project.images.abspath(row), copies, how)
        wait_job(self.app, self.ctl.project.add_folder(copies))
        panel.task_box.setCurrentText("technique")
        view = panel.show_quality()
        view.run_button.click()
        pump(self.app, lambda: view.job is None and view.found is not None, 900)
        self.quiet()
        for k, (page, what) in enumerate(((view.duplicates, "duplicates"), (view.mislabels, "label-mistakes"))):
            view.tabs.setCurrentWidget(page)
            page.select_rows([0])
            self.shots.save(f"{first + k:02d}-quality-{what}", self.w, over=view)
        view.close()
        s.selection.clear()
        self.w.scatter.color_combo.setCurrentText("Quality: outlier score")
        self.shots.save(f"{first + 2:02d}-map-quality-outliers", self.w)
        self.w.scatter.color_combo.setCurrentText("Label: technique")

    def suggest(self, name: str) -> None:
        """Suggest for a task with two labels in each of the four largest techniques: the reasons, and the grid
        showing the suggestions in order with the first one selected (ready for a number key)."""
        from collections import Counter

        s, panel = self.s, self.w.side_panel.panel_named("Classify")
        technique = s.project.labels.labels("technique")
        top = [t for t, _ in Counter(technique.values()).most_common(4)]
        few = {i: t for t in top for i in sorted(i for i, v in technique.items() if v == t)[:2]}
        s.project.labels.set_many("technique-few", few)
        s.tasks_changed.emit()
        self.ctl.labelling.set_task("technique-few")  # the grid's chips and the number keys: this task
        panel.task_box.setCurrentText("technique-few")
        panel.grouped.setChecked(False)
        panel.suggest_button.click()
        pump(self.app, lambda: not s.classify.busy and panel.suggestions.rowCount() > 0, 900)
        panel.suggestions.selectRow(0)
        self.quiet()
        panel.parentWidget().parentWidget().ensureWidgetVisible(panel.suggestions)
        self.shots.save(name, self.w)
        s.results.clear()
        self.ctl.labelling.set_task("technique")

    def formats(self, folder: Path) -> None:
        ctl = self.ctl
        job = ctl.project.new_from_folder(folder, self.tmp / "formats.micview")
        wait_job(self.app, job)
        self.quiet()
        self.shots.save("10-new-project-no-embeddings-yet", self.w)
        if hasattr(os, "mkfifo"):  # a named pipe dropped with an image: listed as skipped, never opened
            os.mkfifo(self.tmp / "stream.tif")
            wait_job(self.app, ctl.project.add_paths([self.tmp / "stream.tif"])[0])
        self.w.show_import_errors()
        dialog = self.w.import_errors_dialog
        self.shots.save("11-import-errors", self.w, over=dialog)
        dialog.close()
        self.label_report("25-label-import-report")
        rows = {r.name: r for r in self.s.catalog.rows}
        tiff = rows.get("FEI-Helios-Ebeam-16bits.tif") or rows["test_tiff_Zeiss_SEM_512pix.tif"]
        # its pixels are blanked to 0 but for the burnt-in data bar: the profile and the cursor go over the bar
        self.viewer("12-viewer-16bit-tiff", tiff, line=(0.05, 0.955, 0.95, 0.955), cursor=(0.3, 0.955))
        dm3 = rows.get("multi_signal.dm3") or rows["test_STEM_image.dm3"]
        self.viewer("13-viewer-dm3", dm3)

    def label_report(self, name: str) -> None:
        """The report of a label CSV as collaborators send them: two rows for one image that disagree, rows written
        on another computer (its folders), a note and a magnification column (kept as ``csv_magnification``)."""
        import csv

        rows = self.s.catalog.rows
        src = self.tmp / "from-the-microscope-pc.csv"
        with src.open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f)
            out.writerow(["file", "technique", "note", "magnification"])
            out.writerow([rows[0].path, "SEM", "first session", "5000"])
            out.writerow([rows[0].path, "TEM", "first session", "5000"])  # the same image, another technique
            out.writerows([r.path, "SEM", "", "20000"] for r in rows[1:6])
            out.writerow([rows[6].path, "TEM", "check the scale bar", "120000"])
            out.writerows([f"D:/Lab/2023/session-{k}/{r.name}", "SEM", "", ""] for k, r in enumerate(rows[7:11]))
        wait_job(self.app, self.ctl.label_files.import_labels(src, ["technique"]))
        dialog = self.w.label_reports.dialog
        pump(self.app, lambda: dialog is not None and dialog.isVisible())
        self.shots.save(name, self.w, over=dialog)
        dialog.close()


class SampleStates(States):
    """The generated sample (no real data given)."""

    def run(self) -> None:
        s, shots = self.s, self.shots
        from micview.core.sample_data import write_sample

        write_sample(self.tmp / "sample", per_kind=16)
        wait_job(self.app, self.ctl.project.open_sample(self.tmp / "sample"))
        self.wait_map(48)
        self.quiet()
        shots.save("02-browser", self.w)
        self.select_cluster([r.id for r in s.catalog.rows if r.folder == "lamellae"])
        self.readme_shot = shots.save("03-map-selection", self.w)
        self.more_like_this(next(r.id for r in s.catalog.rows if r.folder == "particles"))
        shots.save("04-search-results", self.w)
        s.results.clear()
        self.viewer(
            "05-viewer-16bit", next(r for r in s.catalog.rows if r.dtype == "uint16"), line=(0.2, 0.5, 0.8, 0.5)
        )
        self.jobs_running("06-jobs-running")
        self.watching("12-watching-alerts", sorted((self.tmp / "sample").rglob("*.png"))[::6], "far; grains>=0.6")
        self.plates("07-plates", [])
        self.models("11-models-offline")
        self.safety(self.tmp / "sample" / "sample.micview", 8)
