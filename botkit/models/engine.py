"""The generation seam: dialogue and plugins only see `Engine` (generate, stream, batch, score), so
llama.cpp, an OpenAI-compatible server, vLLM or transformers can answer behind it (see models.loading)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from botkit.decoding import DecodingOptions


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    # "length" when max_new_tokens ran out, else "stop" (end of turn or a stop string).
    finish_reason: str = "stop"


Messages = list[dict]


class Engine(Protocol):
    """What botkit needs from an inference engine. Engines are registered by name through the
    `register_engines` hook; `botkit.models.loading.load_engine` picks one from the settings."""

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

    def score(self, messages: Messages, continuations: list[str]) -> list[float]:
        """log P(continuation | chat) for each continuation, as the assistant's reply to `messages`.

        Engines without access to logits use `score_by_generation`: 0.0 for the continuation the
        model writes (greedy), -inf for the others.
        """


def cut_at_stop(text: str, stop: list[str]) -> str:
    cuts = [text.index(s) for s in stop if s and s in text]
    return text[: min(cuts)] if cuts else text


class StopScanner:
    """Streams text up to the first stop string: `feed(piece)` returns what is safe to show now,
    holding back a tail that could still grow into a stop string, so nothing shown is ever cut."""

    def __init__(self, stop: list[str]):
        self.stop = [s for s in stop if s]
        self.text = ""
        self.shown = 0
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.text += piece
        cut = cut_at_stop(self.text, self.stop)
        if len(cut) < len(self.text):
            self.stopped, self.text = True, cut
            safe = len(cut)
        else:
            safe = len(self.text) - self._partial_tail()
        out, self.shown = self.text[self.shown:safe], max(self.shown, safe)
        return out

    def _partial_tail(self) -> int:
        """Length of the longest end of the text that is the start of a stop string."""
        longest = 0
        for s in self.stop:
            for n in range(min(len(s) - 1, len(self.text)), longest, -1):
                if self.text.endswith(s[:n]):
                    longest = n
                    break
        return longest

    def flush(self) -> str:
        """The held-back tail once generation has ended without completing a stop string."""
        out, self.shown = self.text[self.shown:], len(self.text)
        return out


def score_by_generation(engine, messages: Messages, continuations: list[str]) -> list[float]:
    """The scoring fallback: generate greedily and give 0.0 to the continuation the reply starts
    with (else the one it names first), -inf to the rest; all -inf when it names none."""
    longest = max((len(c.split()) for c in continuations), default=1)
    reply = engine.generate(messages, DecodingOptions(strategy="greedy", max_new_tokens=4 + 2 * longest)).text
    reply = reply.strip().lower()
    found = {i: reply.find(c.strip().lower()) for i, c in enumerate(continuations) if c.strip()}
    found = {i: at for i, at in found.items() if at >= 0}
    best = min(found, key=lambda i: (found[i], -len(continuations[i]))) if found else None
    return [0.0 if i == best else -math.inf for i in range(len(continuations))]
