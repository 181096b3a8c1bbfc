"""Multiple choice by letter scoring: probabilities sum to 1, are deterministic, do not depend on batching,
and equal the log-likelihood of each option's letter scored on its own."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from micview.ml.vlm import continuation_logprob, mcq_metrics, score_letters
from micview.ml.vlm.prompts import Exemplar, mcq_conversation, mcq_text, parse_choice
from micview.ml.vlm.scoring import letter_token_ids, next_token_logprobs

OPTIONS = ["Scanning electron microscopy", "Transmission electron microscopy", "Atomic force microscopy",
           "Reflected light microscopy", "Photography"]  # fmt: skip


def _images() -> list[Image.Image]:
    rng = np.random.default_rng(1)
    return [Image.fromarray((rng.random((50 + 15 * i, 70, 3)) * 255).astype("uint8")) for i in range(3)]


def _questions() -> tuple[list, list[int]]:
    sizes = [5, 3, 4]
    return [
        mcq_conversation(im, "Which technique?", OPTIONS[:n]) for im, n in zip(_images(), sizes, strict=False)
    ], sizes


def test_probabilities_sum_to_one_and_are_deterministic(vlm) -> None:
    convs, sizes = _questions()
    first, second = score_letters(vlm, convs, sizes), score_letters(vlm, convs, sizes)
    for a, b, n in zip(first, second, sizes, strict=False):
        assert a.probs.shape == (n,) and a.probs.sum() == pytest.approx(1.0, abs=1e-9)
        assert np.array_equal(a.probs, b.probs)
        assert 0 < a.letter_mass <= 1


def test_batched_equals_separate(vlm) -> None:
    convs, sizes = _questions()
    batched = score_letters(vlm, convs, sizes)
    for conv, n, b in zip(convs, sizes, batched, strict=False):
        alone = score_letters(vlm, [conv], [n])[0]
        np.testing.assert_allclose(b.probs, alone.probs, atol=1e-5)
        assert b.index == alone.index


def test_one_pass_equals_scoring_each_option_separately(vlm) -> None:
    """The next-token logits of one pass give the same log-likelihood as a forward pass per option."""
    conv = _questions()[0][0]
    logp = next_token_logprobs(vlm, [conv])[0]
    ids = letter_token_ids(vlm.tokenizer, 5)
    for letter, variants in zip("ABCDE", ids, strict=False):
        token = vlm.tokenizer.encode(letter, add_special_tokens=False)
        assert token[0] in variants
        assert continuation_logprob(vlm, conv, letter) == pytest.approx(float(logp[token[0]]), abs=1e-4)


def test_few_shot_exemplars_come_first(vlm) -> None:
    ims = _images()
    conv = mcq_conversation(ims[0], "Which?", OPTIONS[:3], [Exemplar(ims[1], 2), Exemplar(ims[2], 0)])
    assert [m["role"] for m in conv] == ["user", "assistant", "user", "assistant", "user"]
    assert conv[1]["content"][0]["text"] == "C"
    choice = score_letters(vlm, [conv], [3])[0]
    assert choice.probs.sum() == pytest.approx(1.0)


def test_prompt_and_parsing() -> None:
    text = mcq_text("Which technique?", OPTIONS[:3])
    assert text.splitlines()[1:4] == ["A. Scanning electron microscopy", "B. Transmission electron microscopy",
                                      "C. Atomic force microscopy"]  # fmt: skip
    assert parse_choice("B", OPTIONS) == 1
    assert parse_choice("The answer is (C).", OPTIONS) == 2
    assert parse_choice("photography, clearly", OPTIONS) == 4
    assert parse_choice("I cannot tell", OPTIONS[:3]) is None
    with pytest.raises(ValueError):
        mcq_text("q", ["only one"])


def test_metrics() -> None:
    m = mcq_metrics(["SEM", "SEM", "SEM", "TEM"], ["SEM", "SEM", "TEM", ""])
    assert m.accuracy == pytest.approx(0.5)
    assert m.balanced_accuracy == pytest.approx((2 / 3 + 0) / 2)
    assert m.unanswered == 1 and m.labels == ["SEM", "TEM", "(no answer)"]
    assert m.confusion.tolist() == [[2, 1, 0], [0, 0, 1], [0, 0, 0]]
