"""The active model as a langchain-core Runnable (`chat_model`), and the chat prompts tasks build
for it (`chat_prompt`): a task is prompt | model | parser."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, convert_to_openai_messages
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from botkit.decoding import DecodingOptions


def chat_prompt(system: str, examples: list[dict] = (), human: str = "{text}") -> ChatPromptTemplate:
    """System prompt, few-shot turns, then the user's text. Message objects keep braces in brand
    copy from being read as template variables."""
    shots = [m for ex in examples for m in (HumanMessage(ex["input"]), AIMessage(ex["output"]))]
    return ChatPromptTemplate.from_messages([SystemMessage(system), *shots, ("human", human)])


@dataclass
class ModelCall:
    """The chat a task last sent the engine and the text the model wrote for it (for best-of-N, the
    candidate shown first): logged beside the shown output, so training sees what the model saw."""

    messages: list[dict] | None = None
    output: str | None = None


_last_call: ContextVar[ModelCall | None] = ContextVar("botkit_last_model_call", default=None)


@contextmanager
def model_calls() -> Iterator[ModelCall]:
    """Record, in the yielded `ModelCall`, what the tasks run inside this block sent the model."""
    call = ModelCall()
    token = _last_call.set(call)
    try:
        yield call
    finally:
        _last_call.reset(token)


def note_call(messages: list[dict], output: str | None) -> None:
    """Record a model call in the enclosing `model_calls` block (nothing outside one)."""
    if (call := _last_call.get()) is not None:
        call.messages, call.output = [dict(m) for m in messages], output


def note_output(output: str | None) -> None:
    """Change what the last recorded call counts as shown (a task that pairs or drops candidates after
    best-of-N: an ad shows a description only beside a headline it does not repeat); None: nothing shown."""
    if (call := _last_call.get()) is not None:
        call.output = output


def to_chat(value) -> list[dict]:
    """A prompt value, langchain messages, chat dicts or a bare string as engine chat messages."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, PromptValue):
        value = value.to_messages()
    return [{"role": m["role"], "content": m["content"]} for m in convert_to_openai_messages(value)]


class ModelStep(Runnable):
    """The active engine as a Runnable: chat in, completion text out. `batch` is one batched
    generate call (not a thread per input) and `stream` yields text as it is decoded."""

    def __init__(self, engine, options: DecodingOptions):
        self.engine, self.options = engine, options

    def invoke(self, input, config=None, **kwargs) -> str:
        chat = to_chat(input)
        text = self.engine.generate(chat, self.options).text
        note_call(chat, text)
        return text

    def batch(self, inputs: list, config=None, *, return_exceptions: bool = False, **kwargs: Any) -> list[str]:
        if not inputs:
            return []
        # Not noted: a batch of different chats (one preview per subject line) is no single candidate.
        return [g.text for g in self.engine.generate_batch([to_chat(i) for i in inputs], self.options)]

    def stream(self, input, config=None, **kwargs) -> Iterator[str]:
        chat, pieces = to_chat(input), []
        for piece in self.engine.stream(chat, self.options):
            if isinstance(piece, str):
                pieces.append(piece)
                yield piece
        note_call(chat, "".join(pieces))


def chat_model(bot, **decoding) -> ModelStep:
    """`bot`'s active model with its configured decoding, changed by `decoding` (validated)."""
    return ModelStep(bot.engine, bot.settings.decoding.merged(**decoding))
