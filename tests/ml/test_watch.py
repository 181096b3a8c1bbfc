"""Watch mode end to end: files written slowly into a watched folder become points on the existing map.

A writer thread writes images in chunks (one with a pause longer than the settling time, so a truncated
file sits there complete-looking), renames the folder away and back mid-run, and writes more; the watch
task runs in the test's thread exactly as the CLI drives it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from ml_images import pattern
from PIL import Image

from micview.core.store import Project
from micview.core.tasks import run_task
from micview.core.watch import parse_rule
from micview.ml.embedding import embed_project
from micview.ml.map_growth import REFIT_ABOVE, add_points, added_fraction, map_points
from micview.ml.maps import cached_map, map_task
from micview.ml.watch import WatchOptions, WatchProgress, watch_folder

MODEL = "tiny-oc"


def png(i: int) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(pattern(100 + i, 120, 160)).save(buf, format="PNG")
    return buf.getvalue()


def write_slowly(path: Path, data: bytes, chunks: int = 6, pause: float = 0.08, stall_at: int | None = None) -> None:
    step = len(data) // chunks + 1
    with path.open("wb") as f:
        for k in range(chunks):
            f.write(data[k * step : (k + 1) * step])
            f.flush()
            time.sleep(1.2 if k == stall_at else pause)


@pytest.fixture
def mapped(project: Project, tiny) -> Project:
    """The generated project embedded with a tiny CLIP, two classes labelled, and a PCA map."""
    run_task(embed_project(project, MODEL))
    rows = sorted(project.images.all(status="ok"), key=lambda r: r.name)
    project.labels.set([r.id for r in rows[:3]], "kind", "stripes")
    project.labels.set([r.id for r in rows[3:6]], "kind", "blobs")
    run_task(map_task(project, MODEL, "pca", in_process=False))
    return project


def _drive(task, until, timeout: float = 60.0) -> list[WatchProgress]:
    seen: list[WatchProgress] = []
    end = time.monotonic() + timeout
    for step in task:
        seen.append(step)
        if until(seen) or time.monotonic() > end:
            task.close()
            break
    return seen


def test_files_written_slowly_appear_once_complete_embedded_placed_and_predicted(mapped: Project, tmp_path):
    project = mapped
    before = cached_map(project, MODEL, "pca")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    sizes: dict[str, int] = {}

    def writer() -> None:
        time.sleep(1.0)  # the watch is loading the model
        for i, name in enumerate(["a.png", "b.png"]):
            data = png(i)
            write_slowly(incoming / name, data, stall_at=2 if name == "b.png" else None)
            sizes[name] = len(data)
        time.sleep(1.0)
        away = tmp_path / "away"
        incoming.rename(away)  # the share drops...
        time.sleep(1.0)
        away.rename(incoming)  # ...and comes back, with a new image
        data = png(2)
        write_slowly(incoming / "c.png", data)
        sizes["c.png"] = len(data)

    thread = threading.Thread(target=writer)
    options = WatchOptions(model_id=MODEL, task="kind", marco=False, settle_s=0.5, poll_s=0.2,
                           rules=(parse_rule("far>0.0"),))  # fmt: skip
    task = watch_folder(project.path, incoming, options)
    thread.start()
    steps = _drive(task, lambda s: sum(len(p.arrivals) for p in s) >= 3 and not thread.is_alive())
    thread.join()
    time.sleep(0.2)
    arrivals = [a for p in steps for a in p.arrivals]
    events = [p.event for p in steps if p.event]

    assert sorted(a.name for a in arrivals) == ["a.png", "b.png", "c.png"], "each image exactly once"
    assert "vanished" in events and "returned" in events
    assert any(p.hits for p in steps)
    with Project.open(project.path) as p2:
        after = cached_map(p2, MODEL, "pca")
        assert after is not None and after.run_id == before.run_id, "the stored map grew; it was not recomputed"
        base = len(before.ids)
        assert np.array_equal(after.ids[:base], before.ids) and np.array_equal(after.xy[:base], before.xy)
        grown = dict(zip(after.ids.tolist(), after.xy.tolist(), strict=True))
        preds = p2.labels.current("kind", "model")
        for a in arrivals:
            row = p2.images.get(a.image_id)
            assert row.status == "ok" and row.size_bytes == sizes[a.name], "imported only once complete"
            assert p2.embeddings.missing(MODEL, [row.content_hash]) == []
            assert a.xy is not None and np.allclose(grown[a.image_id], a.xy)
            assert a.guesses and a.guesses[0].label in {"stripes", "blobs"} and preds[a.image_id].label
            assert a.neighbours and a.distance is not None
            assert a.placed_at >= a.complete_at > 0
        assert sum(r.status != "ok" for r in p2.images.all()) == 0
        assert any(r.kind == "import" and r.method == "watch" for r in p2.runs.all("import"))


def test_watch_ends_at_its_time_limit_and_a_missing_folder_is_waited_for(mapped: Project, tmp_path):
    start = time.monotonic()
    steps = list(watch_folder(mapped.path, tmp_path / "not-yet", WatchOptions(model_id=MODEL, marco=False),
                              seconds=1.5))  # fmt: skip
    assert 1.4 < time.monotonic() - start < 30
    assert steps[1].event == "vanished" and "not reachable yet" in steps[1].message


def test_watch_refuses_a_file_as_folder(mapped: Project, tmp_path):
    from micview.core.errors import MicviewError

    f = tmp_path / "file.png"
    f.write_bytes(png(0))
    with pytest.raises(MicviewError, match="is a file, not a folder"):
        next(watch_folder(mapped.path, f, WatchOptions(model_id=MODEL)))


def test_points_added_later_never_move_earlier_ones_and_count_toward_a_refit(mapped: Project):
    m = cached_map(mapped, MODEL, "pca")
    add_points(mapped, m.run_id, np.array([10_001, 10_002]), np.array([[1, 2], [3, 4]], np.float32))
    add_points(mapped, m.run_id, np.array([10_002, int(m.ids[0])]), np.array([[9, 9], [9, 9]], np.float32))
    ids, xy = map_points(mapped, m.run_id)
    assert ids[-2:].tolist() == [10_001, 10_002] and xy[-1].tolist() == [3, 4] and np.array_equal(xy[0], m.xy[0])
    assert added_fraction(mapped, m.run_id) == pytest.approx(2 / (len(m.ids) + 2))
    assert REFIT_ABOVE == 0.2


def test_a_new_time_point_joins_its_well_and_a_changed_class_raises_an_alert(mapped: Project, tmp_path):
    """Plate names (the generic pattern): the new drop image finds the well's previous time point."""
    from micview.core.importer import add_folder
    from micview.core.store.annotations import Prediction

    plates = tmp_path / "plates" / "plate7"
    (plates / "2026-01-01").mkdir(parents=True)
    (plates / "2026-01-01" / "A1_1.png").write_bytes(png(7))
    run_task(add_folder(mapped, tmp_path / "plates", workers=1))
    old = mapped.images.by_path(plates / "2026-01-01" / "A1_1.png")
    mapped.labels.add_predictions("kind", [Prediction(old.id, "nothing-yet", 0.9)], model_id=MODEL)
    (plates / "2026-01-08").mkdir()
    options = WatchOptions(model_id=MODEL, task="kind", marco=False, settle_s=0.3, poll_s=0.2,
                           rules=(parse_rule("changed"),))  # fmt: skip
    task = watch_folder(mapped.path, tmp_path / "plates", options)

    def write_later() -> None:
        time.sleep(1.0)
        (plates / "2026-01-08" / "A1_1.png").write_bytes(png(8))

    thread = threading.Thread(target=write_later)
    thread.start()
    steps = _drive(task, lambda s: any(p.arrivals for p in s))
    thread.join()
    (arrival,) = [a for p in steps for a in p.arrivals]
    assert arrival.well is not None and (arrival.well.plate, arrival.well.well, arrival.well.time) == (
        "plate7",
        "A1",
        "2026-01-08",
    )
    assert arrival.well.previous_image == old.id and arrival.well.previous_label == "nothing-yet"
    (hit,) = [h for p in steps for h in p.hits]
    assert hit.rule == "changed" and "nothing-yet →" in hit.why


def test_far_threshold_is_meaningful_even_when_every_image_is_labelled(mapped: Project):
    from micview.ml.watch.predict import LivePredictor

    rows = mapped.images.all(status="ok")
    for k, r in enumerate(rows):
        mapped.labels.set([r.id], "all", "a" if k % 2 else "b")
    predictor = LivePredictor(mapped, "all", MODEL)
    predictor.refresh(force=True)
    assert predictor.far_above is not None and predictor.far_above > 0.0
    ids, X = mapped.embeddings.for_images(MODEL)
    ((near, distance),) = predictor.neighbours(X[:1])
    assert distance == pytest.approx(0.0, abs=1e-3) and near[0].image_id in ids.tolist()


def test_the_watch_offers_a_refit_once_more_than_a_fifth_of_the_map_was_placed_later(mapped: Project, tmp_path):
    m = cached_map(mapped, MODEL, "pca")
    fake = np.arange(50_001, 50_001 + len(m.ids) // 5)  # below a fifth; two new images take it above
    add_points(mapped, m.run_id, fake, np.zeros((len(fake), 2), np.float32))
    assert added_fraction(mapped, m.run_id) <= REFIT_ABOVE
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "one.png").write_bytes(png(11))
    (incoming / "two.png").write_bytes(png(12))
    options = WatchOptions(model_id=MODEL, marco=False, settle_s=0.2, poll_s=0.2)
    steps = _drive(watch_folder(mapped.path, incoming, options), lambda s: sum(len(p.arrivals) for p in s) >= 2)
    assert [p.event for p in steps if p.event] == ["refit"]
    assert added_fraction(mapped, m.run_id) > REFIT_ABOVE
