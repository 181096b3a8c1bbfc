"""Free questions streamed token by token, cancelled within a token; answers and descriptions are stored."""

from __future__ import annotations

import time

import pytest
from vlm_helpers import random_image as _image

from micview.core.store import Project
from micview.core.tasks import run_task
from micview.ml.vlm import Generation, GenerationSettings, TextChunk, ask, describe
from micview.ml.vlm.errors import ImageNotInProjectError
from micview.ml.vlm.prompts import question_conversation


@pytest.fixture
def endless(vlm, monkeypatch: pytest.MonkeyPatch):
    """The model never emits its end-of-sequence token, so only max_new_tokens or a cancel stops it."""
    monkeypatch.setattr(vlm.model.generation_config, "eos_token_id", None)
    return vlm


def test_streaming_yields_pieces_while_generating(endless) -> None:
    gen = Generation(endless, question_conversation(_image(), "Describe"), GenerationSettings(max_new_tokens=40))
    pieces, alive_at_first = [], None
    for piece in gen:
        if alive_at_first is None:
            alive_at_first = gen.thread.is_alive()
        pieces.append(piece)
    assert len(pieces) >= 2 and alive_at_first
    assert gen.tokens == 40 and not gen.thread.is_alive()


def test_cancel_stops_generation(endless) -> None:
    gen = Generation(endless, question_conversation(_image(), "Describe"), GenerationSettings(max_new_tokens=5000))
    next(iter(gen))
    start = time.perf_counter()
    gen.cancel()
    assert not gen.thread.is_alive() and gen.tokens < 5000
    assert time.perf_counter() - start < 2.0


def test_ask_streams_and_stores(labelled: Project, endless) -> None:
    steps = list(ask(labelled, ["pattern_03.png"], "What do you see?", endless, GenerationSettings(12)))
    chunks = [s for s in steps if isinstance(s, TextChunk)]
    assert chunks and all(c.image_id == chunks[0].image_id for c in chunks)
    stored = labelled.answers.for_image(chunks[0].image_id, "question")
    assert len(stored) == 1 and stored[0].question == "What do you see?" and stored[0].model_id == endless.id
    assert stored[0].answer == "".join(c.text for c in chunks).strip()
    run = labelled.runs.get(stored[0].run_id)
    assert run.kind == "vqa" and run.params["max_new_tokens"] == 12 and run.weights_hash == endless.weights_hash


def test_closing_ask_cancels_and_saves_nothing(labelled: Project, endless) -> None:
    task = ask(labelled, ["pattern_03.png"], "What?", endless, GenerationSettings(5000))
    assert isinstance(next(task), TextChunk)
    task.close()
    assert labelled.answers.search("What?") == []


def test_image_not_in_project(labelled: Project, qwen) -> None:
    with pytest.raises(ImageNotInProjectError, match="not an image of"):
        next(ask(labelled, ["nowhere.png"], "What?", qwen))


def test_describe_is_searchable_and_uses_calibration(labelled: Project, qwen) -> None:
    ids = [r.id for r in labelled.images.all()][:3]
    with labelled.transaction() as con:
        con.execute("UPDATE images SET pixel_size_nm = 2.5 WHERE id = ?", (ids[0],))
    out = run_task(describe(labelled, ids, qwen, GenerationSettings(6), batch_size=2))
    assert len(out) == 3
    rows = labelled.answers.search("Technique:", kind="description")
    assert len(rows) == 3 and "2.5 nm per pixel" in rows[0].question and "nm per pixel" not in rows[1].question
