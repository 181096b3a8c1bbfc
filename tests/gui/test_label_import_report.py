"""A label import in the window shows its whole report (the lists ``micview import-labels`` prints), writes no
conflicting row unless asked, imports again with the last of each or by file name, and can be undone."""

from __future__ import annotations

import csv
from pathlib import Path

from gui_helpers import wait_job


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)
    return path


def ids_by_path(w) -> dict[str, int]:
    return {r.path: r.id for r in w.project.images.all()}


def import_and_wait(qtbot, w, csv_path: Path, tasks: list[str]):
    with qtbot.waitSignal(w.session.labels_imported, timeout=20_000) as got:
        wait_job(qtbot, w.ctl.label_files.import_labels(csv_path, tasks))
    return got.args[0]


def test_conflicts_unmatched_rows_and_renamed_columns_are_listed_and_nothing_conflicting_is_written(
    qtbot, project_window, tmp_path: Path
) -> None:
    w = project_window
    ids = ids_by_path(w)
    g0, g1 = ids["grains/grains_00.tif"], ids["grains/grains_01.png"]
    w.ctl.labelling.define("kind", ["grains", "particles", "lamellae"])
    w.ctl.labelling.write("kind", {g0: "lamellae"}, "label by hand")  # the user's own label
    src = write_rows(tmp_path / "labels.csv", ["file", "kind", "note", "magnification"], [
        ["grains/grains_00.tif", "grains", "first", "5000"],
        ["grains/grains_00.tif", "particles", "first", "5000"],  # disagrees with line 2
        ["grains/grains_01.png", "grains", "by the CSV", "20000"],
        ["otherpc/run1/grains_02.png", "grains", "", ""],  # another computer's folders
    ])  # fmt: skip
    outcome = import_and_wait(qtbot, w, src, ["kind"])
    labels = w.project.labels.labels("kind")
    assert labels[g0] == "lamellae" and labels[g1] == "grains"  # the conflicting rows wrote nothing
    assert w.project.fields.note(g1) == "by the CSV" and w.project.fields.note(g0) in (None, "")
    assert w.project.fields.of_image(g1).get("csv_magnification") == "20000"

    dialog = w.label_reports.dialog  # rows were not written: the report opens by itself
    assert dialog is not None and dialog.isVisible() and dialog.outcome is outcome
    lists = dialog.items()
    conflicts = next(v for k, v in lists.items() if k.startswith("Rows that disagree"))
    assert conflicts == [("2, 3", "grains/grains_00.tif", "kind: 'grains' / 'particles'")]
    unmatched = next(v for k, v in lists.items() if k.startswith("Rows that matched no image"))
    assert unmatched == [("5", "otherpc/run1/grains_02.png",
                          "no image at this path (its folders are not in this project)")]  # fmt: skip
    renamed = next(v for k, v in lists.items() if k.startswith("Columns kept under another name"))
    assert renamed[0][1] == "magnification" and "csv_magnification" in renamed[0][2]
    assert dialog.last_wins_button.isVisible() and dialog.match_names_button.isVisible()
    assert "line 5" in dialog.as_text() and "'grains' / 'particles'" in dialog.as_text()
    notice = w.notice_bar
    assert "1 image with rows that disagree (not written)" in notice.label.text()
    assert [b.text() for b in notice.buttons] == ["Show the report…"]

    # "Write the last row of each": the same CSV again with last_wins; the dialog shows the new report
    with qtbot.waitSignal(w.session.labels_imported, timeout=20_000):
        dialog.last_wins_button.click()
    qtbot.waitUntil(lambda: not w.session.jobs.running())
    assert w.project.labels.labels("kind")[g0] == "particles"
    assert dialog.outcome.report.last_wins and not dialog.last_wins_button.isVisible()
    assert any(k.startswith("Rows that disagree") and "the last of each written" in k for k in dialog.items())
    # nothing the user labelled is lost: Undo puts their label back (and the history keeps every value)
    w.session.undo_stack.undo()
    assert w.project.labels.labels("kind")[g0] == "lamellae"
    assert [a.label for a in w.project.labels.history(g0, "kind")] == ["lamellae", "particles", "lamellae"]


def test_match_by_file_name_when_the_csv_names_another_computers_folders(qtbot, project_window, tmp_path: Path) -> None:
    w = project_window
    g2 = ids_by_path(w)["grains/grains_02.png"]
    src = write_rows(tmp_path / "other.csv", ["file", "kind"], [
        ["/home/alice/run1/grains_02.png", "grains"], ["/home/alice/run1/particles_01.png", "particles"],
    ])  # fmt: skip
    outcome = import_and_wait(qtbot, w, src, ["kind"])
    assert outcome.report.matched == 0 and w.project.labels.labels("kind") == {}
    dialog = w.label_reports.dialog
    assert dialog.match_names_button.isVisible() and not dialog.last_wins_button.isVisible()
    assert "2 rows name folders this project does not have" in dialog.hint.text()
    with qtbot.waitSignal(w.session.labels_imported, timeout=20_000):
        dialog.match_names_button.click()
    qtbot.waitUntil(lambda: not w.session.jobs.running())
    assert dialog.outcome.report.matched == 2 and w.project.labels.labels("kind")[g2] == "grains"
    assert not dialog.match_names_button.isVisible()


def test_a_clean_import_only_says_so_and_a_refused_one_writes_nothing(qtbot, project_window, tmp_path) -> None:
    w = project_window
    src = write_rows(tmp_path / "clean.csv", ["file", "kind"], [["grains/grains_00.tif", "grains"]])
    import_and_wait(qtbot, w, src, ["kind"])
    assert w.label_reports.dialog is None  # nothing to look at: the notice says it, with the report one click away
    assert "1 of 1 rows matched" in w.notice_bar.label.text()
    w.notice_bar.buttons[0].click()
    assert w.label_reports.dialog.isVisible()
    assert "Every row matched one image" in next(iter(w.label_reports.dialog.items()))
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind\nx,y\n", encoding="utf-8")  # no "file" column: refused, nothing written
    before = w.project.labels.labels("kind")
    job = w.ctl.label_files.import_labels(bad, ["kind"])
    qtbot.waitUntil(lambda: job.done, timeout=20_000)
    assert job.state == "failed" and "no 'file' column" in w.session.errors.last.message
    assert w.project.labels.labels("kind") == before
