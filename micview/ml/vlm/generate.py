"""Text generation: streamed token by token with a cancel, or batched without streaming.

Streaming runs ``model.generate`` in a thread that feeds a ``TextIteratorStreamer``; the caller iterates over
text pieces as they are decoded. Cancelling sets an event that a ``StoppingCriteria`` checks after every
token, so generation stops within one token and the thread ends (no orphaned GPU work). A generator task that
is closed cancels its :class:`Generation` the same way.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from micview.ml.vlm.inputs import encode, floating_inputs
from micview.ml.vlm.model import VisionLanguageModel
from micview.ml.vlm.prompts import Conversation


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    """Decoding settings, stored with every answer's recipe. Greedy by default: the same question gives the
    same answer."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0

    def kwargs(self) -> dict[str, Any]:
        if self.temperature <= 0:
            return {"max_new_tokens": self.max_new_tokens, "do_sample": False}
        return {"max_new_tokens": self.max_new_tokens, "do_sample": True, "temperature": self.temperature,
                "top_p": self.top_p}  # fmt: skip


def _stopper(event: threading.Event, counter: list[int]) -> Any:
    from transformers import StoppingCriteria

    class _Cancel(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            counter[0] += 1
            return torch.full((input_ids.shape[0],), event.is_set(), dtype=torch.bool, device=input_ids.device)

    return _Cancel()


class Generation:
    """One streamed answer: iterate for text pieces; :meth:`cancel` stops it within one token."""

    def __init__(self, vlm: VisionLanguageModel, conversation: Conversation, settings: GenerationSettings) -> None:
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        self._cancel = threading.Event()
        self._counter = [0]
        self._error: BaseException | None = None
        self.streamer = TextIteratorStreamer(vlm.tokenizer, skip_prompt=True, skip_special_tokens=True)
        inputs = floating_inputs(vlm, encode(vlm, [conversation]))
        kwargs = {**inputs, **settings.kwargs(), "streamer": self.streamer,
                  "stopping_criteria": StoppingCriteriaList([_stopper(self._cancel, self._counter)])}  # fmt: skip
        self.thread = threading.Thread(target=self._run, args=(vlm, kwargs), name="vlm-generate", daemon=True)
        self.thread.start()

    def _run(self, vlm: VisionLanguageModel, kwargs: dict[str, Any]) -> None:
        import torch

        try:
            with torch.inference_mode():
                vlm.model.generate(**kwargs)
        except BaseException as exc:  # re-raised in the consumer's thread
            self._error = exc
            self.streamer.text_queue.put(self.streamer.stop_signal)

    @property
    def tokens(self) -> int:
        """Tokens generated so far."""
        return self._counter[0]

    def __iter__(self) -> Iterator[str]:
        for piece in self.streamer:
            if piece:
                yield piece
        self.thread.join()
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """Stop after the current token and wait for the thread to finish."""
        import queue

        self._cancel.set()
        while self.thread.is_alive():  # keep the queue drained while the last token finishes
            with contextlib.suppress(queue.Empty):
                self.streamer.text_queue.get(timeout=0.05)
        self.thread.join()


def generate_texts(
    vlm: VisionLanguageModel, conversations: Sequence[Conversation], settings: GenerationSettings
) -> list[str]:
    """Answers to a batch of prompts in one ``generate`` call (no streaming)."""
    import torch

    inputs = floating_inputs(vlm, encode(vlm, conversations))
    with torch.inference_mode():
        out = vlm.model.generate(**inputs, **settings.kwargs())
    new = out[:, inputs["input_ids"].shape[1] :]
    return [t.strip() for t in vlm.tokenizer.batch_decode(new, skip_special_tokens=True)]
