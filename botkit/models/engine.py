"""The generation seam: dialogue and plugins only see `Engine`, so llama.cpp or vLLM can slot in later.

`TransformersEngine` is the always-present implementation (shared with training).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from botkit.decoding import DecodingOptions
from botkit.usage import record


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int


Messages = list[dict]


class Engine(Protocol):
    """What botkit needs from an inference engine."""

    name: str
    context_window: int

    def count_tokens(self, messages: Messages) -> int:
        """Tokens of `messages` rendered with the chat template, generation prompt included."""

    def generate(self, messages: Messages, options: DecodingOptions) -> Generation:
        """One completion for a chat."""

    def generate_batch(self, chats: list[Messages], options: DecodingOptions) -> list[Generation]:
        """One completion per chat, batched where the engine can."""

    def stream(self, messages: Messages, options: DecodingOptions) -> Iterator[str | Generation]:
        """Text pieces as they are decoded, then the whole `Generation` as the last item."""


def cut_at_stop(text: str, stop: list[str]) -> str:
    cuts = [text.index(s) for s in stop if s and s in text]
    return text[: min(cuts)] if cuts else text


class TransformersEngine:
    """Generation with transformers' `generate()`; chat templates come from the tokenizer."""

    def __init__(self, model, tokenizer, name: str):
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        config = getattr(model, "config", None)
        self.context_window = int(getattr(config, "max_position_embeddings", 2048) or 2048)
        # One generation at a time per model: concurrent callers (app sessions, API) queue here.
        self._lock = threading.Lock()

    @property
    def device(self):
        return next(self.model.parameters()).device

    def _encode(self, chats: list[Messages]):
        texts = [self.render(m) for m in chats]
        self.tokenizer.padding_side = "left"
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        return batch.to(self.device)

    def render(self, messages: Messages) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def count_tokens(self, messages: Messages) -> int:
        return len(self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"])

    def count_text(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _kwargs(self, options: DecodingOptions) -> dict:
        kwargs = options.generate_kwargs()
        kwargs["pad_token_id"] = self.tokenizer.pad_token_id
        if "stop_strings" in kwargs:
            kwargs["tokenizer"] = self.tokenizer
        return kwargs

    def _seed(self, options: DecodingOptions) -> None:
        if options.seed is not None:
            from transformers import set_seed

            set_seed(options.seed)

    def generate_batch(self, chats: list[Messages], options: DecodingOptions) -> list[Generation]:
        import torch

        batch = self._encode(chats)
        with self._lock, torch.inference_mode():
            self._seed(options)
            out = self.model.generate(**batch, **self._kwargs(options))
        width = batch["input_ids"].shape[1]
        results = []
        for row, mask in zip(out, batch["attention_mask"]):
            new = row[width:]
            new = new[new != self.tokenizer.pad_token_id]
            text = cut_at_stop(self.tokenizer.decode(new, skip_special_tokens=True), options.stop)
            results.append(Generation(text.strip(), int(mask.sum()), len(new)))
            record(results[-1].prompt_tokens, results[-1].completion_tokens)
        return results

    def generate(self, messages: Messages, options: DecodingOptions) -> Generation:
        return self.generate_batch([messages], options)[0]

    def stream(self, messages: Messages, options: DecodingOptions) -> Iterator[str | Generation]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        batch = self._encode([messages])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        result = {}
        # Set when the consumer stops early (an HTTP client hung up): generation ends at the next
        # token and frees the lock for the next caller instead of writing to nobody.
        abandoned = threading.Event()

        class Abandoned(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), abandoned.is_set(), dtype=torch.bool, device=input_ids.device)

        def run():
            with self._lock, torch.inference_mode():
                self._seed(options)
                try:
                    result["out"] = self.model.generate(**batch, **self._kwargs(options), streamer=streamer,
                                                        stopping_criteria=StoppingCriteriaList([Abandoned()]))
                except BaseException as exc:  # surface the error in the caller's thread
                    result["error"] = exc
                    streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        text = ""
        try:
            for piece in streamer:
                # Hold back text once a stop string appears; never show what will be cut.
                before = cut_at_stop(text, options.stop)
                text += piece
                shown = cut_at_stop(text, options.stop)
                if len(shown) > len(before):
                    yield shown[len(before):]
        finally:
            abandoned.set()
        thread.join()
        if "error" in result:
            raise result["error"]
        width = batch["input_ids"].shape[1]
        completion = int(result["out"].shape[1] - width)
        record(width, completion)
        yield Generation(cut_at_stop(text, options.stop).strip(), width, completion)
