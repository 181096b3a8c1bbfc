"""The window's watch runs in a helper process: the same arrivals, hits sent to the caller's sinks, errors
raised in the caller, the helper gone once the watch is closed — and the caller never imports the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_watch import MODEL, mapped, png  # noqa: F401 - the fixture is used by name

from micview.core.errors import MicviewError
from micview.core.store import Project
from micview.ml.watch import WatchOptions, watch_folder

DRIVER = textwrap.dedent(
    """
    import json, multiprocessing, sys, time
    from pathlib import Path

    from micview.core.watch import parse_rule
    from micview.ml.watch import WatchOptions, watch_folder

    project, folder, ready = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    hits = []

    class Sink:
        def send(self, hit):
            hits.append((hit.rule, hit.arrival.name))

        def close(self, timeout=0.0):
            pass

    options = WatchOptions(model_id=sys.argv[4], task="kind", marco=False, settle_s=0.3, poll_s=0.2,
                           separate_process=True, rules=(parse_rule("far>0.0"),))
    task = watch_folder(project, folder, options, sinks=[Sink()])
    arrivals, end = [], time.monotonic() + 240
    for step in task:
        if step.message.startswith("Watching ") and ready.exists():
            ready.rename(folder / "a.png")  # complete at once: the watch is loaded and looking
        arrivals += step.arrivals
        if arrivals or time.monotonic() > end:
            task.close()
            break
    a = arrivals[0] if arrivals else None
    print(json.dumps({
        "names": [x.name for x in arrivals], "id": a and a.image_id, "xy": a and a.xy,
        "guess": a and a.guess and a.guess.label, "hits": hits,
        "heavy": [m for m in ("torch", "sklearn", "umap", "numba") if m in sys.modules],
        "children": [p.name for p in multiprocessing.active_children()],
    }))
    """
)


@pytest.mark.slow
def test_the_helper_takes_an_image_in_and_the_caller_never_imports_the_model(mapped: Project, tmp_path):  # noqa: F811
    incoming, ready = tmp_path / "incoming", tmp_path / "a.png"
    incoming.mkdir()
    ready.write_bytes(png(0))
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, str(mapped.path), str(incoming), str(ready), MODEL],
        capture_output=True, text=True, timeout=600, env=os.environ.copy(),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["names"] == ["a.png"] and got["guess"] in {"stripes", "blobs"}
    assert got["hits"] == [["far>0.0", "a.png"]], "the hit reached the caller's sink"
    assert got["heavy"] == [], "the model, the classifier and UMAP load in the helper only"
    assert got["children"] == [], "closing the watch ended its helper"
    with Project.open(mapped.path) as project:
        assert project.images.get(got["id"]).name == "a.png"
        assert project.labels.current("kind", "model")[got["id"]].label == got["guess"]


def test_an_error_in_the_helper_is_raised_in_the_caller_with_its_message(tmp_path: Path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    task = watch_folder(tmp_path / "missing.micview", folder, WatchOptions(model_id=MODEL, separate_process=True))
    with pytest.raises(MicviewError) as raised:
        for _step in task:
            pass
    assert "missing.micview" in str(raised.value)


@pytest.mark.slow
def test_a_helper_that_dies_is_reported_not_waited_for(mapped: Project, tmp_path):  # noqa: F811
    import multiprocessing

    folder = tmp_path / "incoming"
    folder.mkdir()
    task = watch_folder(mapped.path, folder, WatchOptions(model_id=MODEL, marco=False, separate_process=True))
    for step in task:
        if step.message.startswith("Watching "):
            break
    (helper,) = [p for p in multiprocessing.active_children() if p.name == "micview-watch"]
    helper.kill()  # the system ran out of memory, say
    with pytest.raises(MicviewError, match="helper process ended unexpectedly"):
        for _step in task:
            pass
