"""Multiple choice by scoring, not by parsing: one forward pass per question, read the next-token logits.

After the prompt (which ends where the assistant's answer starts), the model's next-token distribution gives
the probability of each option's letter. A softmax over the K letters gives K probabilities summing to 1, so
every option is scored in the same single pass and no answer is ever unparseable. ``letter_mass`` (how much of
the full vocabulary's probability falls on the option letters) tells whether the model meant to answer with a
letter at all: a low mass flags a model that does not follow the format.

A letter may be spelled by more than one token ("A" and " A" in byte-level BPEs, "▁A" in SentencePiece);
every single-token spelling counts (their probabilities add).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from micview.ml.vlm.errors import ScoringError
from micview.ml.vlm.inputs import encode, floating_inputs
from micview.ml.vlm.model import VisionLanguageModel
from micview.ml.vlm.prompts import LETTERS, Conversation


@dataclass(frozen=True, slots=True)
class Choice:
    """The scored options of one question: probabilities in option order (sum 1) and the pick."""

    probs: np.ndarray
    letter_mass: float

    @property
    def index(self) -> int:
        return int(np.argmax(self.probs))


def letter_token_ids(tokenizer: Any, n: int) -> list[list[int]]:
    """For each of the first ``n`` letters, the token ids that spell exactly that letter."""
    out = []
    for letter in LETTERS[:n]:
        ids = set()
        for variant in (letter, " " + letter):
            toks = tokenizer.encode(variant, add_special_tokens=False)
            if len(toks) == 1 and tokenizer.decode(toks).strip() == letter:
                ids.add(int(toks[0]))
        if not ids:
            raise ScoringError(
                f"this model's tokenizer has no single token for the letter '{letter}', so options cannot be "
                "scored; use the generate-and-parse method (--method generate)."
            )
        out.append(sorted(ids))
    return out


def next_token_logprobs(vlm: VisionLanguageModel, conversations: Sequence[Conversation]) -> Any:
    """Log-probabilities (float32, batch × vocab) of the token that follows each prompt."""
    import torch

    inputs = floating_inputs(vlm, encode(vlm, conversations))
    with torch.inference_mode():
        try:
            out = vlm.model(**inputs, use_cache=False, logits_to_keep=1)
        except TypeError:  # a model whose forward has no logits_to_keep
            out = vlm.model(**inputs, use_cache=False)
        return torch.log_softmax(out.logits[:, -1, :].float(), dim=-1).cpu()


def score_letters(
    vlm: VisionLanguageModel, conversations: Sequence[Conversation], n_options: Sequence[int]
) -> list[Choice]:
    """Score a batch of MCQ prompts (``n_options[i]`` options in prompt ``i``) in one forward pass."""
    import torch

    logp = next_token_logprobs(vlm, conversations)
    ids = letter_token_ids(vlm.tokenizer, max(n_options))
    choices = []
    for row, n in zip(logp, n_options, strict=True):
        per_letter = torch.stack([torch.logsumexp(row[i], 0) for i in ids[:n]])
        probs = torch.softmax(per_letter, 0).double().numpy()
        choices.append(Choice(probs / probs.sum(), float(torch.logsumexp(per_letter, 0).exp())))
    return choices


def continuation_logprob(vlm: VisionLanguageModel, conversation: Conversation, text: str) -> float:
    """Log-likelihood of ``text`` as the start of the answer (one forward pass over prompt + text).

    The general form of letter scoring, for answers longer than one token (e.g. scoring each option's full
    text); for a one-letter ``text`` it equals that letter's next-token log-probability.
    """
    import torch

    inputs = floating_inputs(vlm, encode(vlm, [conversation]))
    cont = torch.tensor([vlm.tokenizer.encode(text, add_special_tokens=False)], device=inputs["input_ids"].device)
    n_prompt = inputs["input_ids"].shape[1]
    for key, value in list(inputs.items()):
        if hasattr(value, "shape") and value.dim() == 2 and value.shape == (1, n_prompt):
            fill = cont if key == "input_ids" else torch.full_like(cont, 1 if key == "attention_mask" else 0)
            inputs[key] = torch.cat([value, fill.to(value.dtype)], dim=1)
    with torch.inference_mode():
        logits = vlm.model(**inputs, use_cache=False).logits[0].float()
    logp = torch.log_softmax(logits[n_prompt - 1 : -1], dim=-1)
    return float(logp.gather(1, cont[0].unsqueeze(1)).sum())
