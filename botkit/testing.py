"""Test helpers for plugin authors, loaded by pytest through the `pytest11` entry point.

    def test_shout(task_runner):
        task_runner.engine.responses = ["hello there"]
        assert task_runner("shout", "say hi") == "HELLO THERE"

`task_runner` runs a task on `FakeEngine` (canned replies, every prompt recorded) with fake
embeddings in a throwaway BOTKIT_HOME: no model download, milliseconds per test. For a real model
pass `engine=` (e.g. botkit's tiny random Llama or `load_engine("default")`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from botkit.decoding import DecodingOptions
from botkit.models.engine import Generation, cut_at_stop
from botkit.usage import record


class FakeEngine:
    """An engine that answers from `responses` in turn; `calls` holds every chat it was given."""

    name = "fake"
    context_window = 2048

    def __init__(self, responses: list[str] | None = None):
        self.responses = responses or ["A fine answer."]
        self.calls: list[list[dict]] = []
        self._turn = itertools.count()

    def count_tokens(self, messages: list[dict]) -> int:
        return sum(len(m["content"].split()) + 4 for m in messages)

    def generate_batch(self, chats: list[list[dict]], options: DecodingOptions) -> list[Generation]:
        out = []
        for chat in chats:
            self.calls.append(chat)
            text = cut_at_stop(self.responses[next(self._turn) % len(self.responses)], options.stop)
            out.append(Generation(text, self.count_tokens(chat), len(text.split())))
            record(out[-1].prompt_tokens, out[-1].completion_tokens)
        return out

    def generate(self, messages: list[dict], options: DecodingOptions) -> Generation:
        return self.generate_batch([messages], options)[0]

    def stream(self, messages: list[dict], options: DecodingOptions) -> Iterator[str | Generation]:
        generation = self.generate(messages, options)
        for word in generation.text.split(" "):
            yield word + " "
        yield generation


class TaskRunner:
    """`runner(name, text, **options)` runs a registered task on `runner.bot` and returns its output."""

    def __init__(self, bot):
        self.bot = bot

    @property
    def engine(self):
        return self.bot.engine

    def __call__(self, name: str, text: str, **options):
        return self.bot.run_task(name, text, **options).output


def make_task_runner(home, engine=None, embedder=None) -> TaskRunner:
    """A runner over a Bot in `home` (set BOTKIT_HOME to it first) with the given or fake parts."""
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from botkit.config import load_settings
    from botkit.dialogue import Bot

    settings = load_settings(home=home)
    embedder = embedder or DeterministicFakeEmbedding(size=64)
    return TaskRunner(Bot(settings, engine=engine or FakeEngine(), embedder=embedder))


@pytest.fixture
def task_runner(tmp_path, monkeypatch) -> TaskRunner:
    """Run a task on a FakeEngine in a throwaway BOTKIT_HOME; set `task_runner.engine.responses`."""
    monkeypatch.setenv("BOTKIT_HOME", str(tmp_path / "botkit-home"))
    monkeypatch.delenv("BOTKIT_CONFIG", raising=False)
    return make_task_runner(tmp_path / "botkit-home")
