"""Structured output from a small model: generate, parse, and on a parse failure sample again
(greedy first, then seeded samples), ending in one clear error instead of a half-parsed answer.

Parsers raise langchain-core's `OutputParserException` with a short reason, the convention
langchain's own output parsers follow, so any of those can be used here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from langchain_core.exceptions import OutputParserException
from langchain_core.runnables import RunnableLambda

from botkit.errors import BotkitError
from botkit.tasks.model import chat_model

T = TypeVar("T")


def parsed_with_retries(bot, parse: Callable[[str], T], *, what: str, attempts: int = 3,
                        max_new_tokens: int = 128, seed: int = 0) -> RunnableLambda:
    """A Runnable step: chat prompt in, `parse(model text)` out.

    Attempt 1 decodes greedily (the model's best guess); later attempts sample with seeds
    `seed+1, seed+2, ...` so each retry sees a different text and runs still repeat exactly.
    """

    def run(prompt) -> T:
        reasons = []
        for attempt in range(attempts):
            decoding = {"strategy": "greedy"} if attempt == 0 else {"strategy": "sample", "seed": seed + attempt}
            text = chat_model(bot, max_new_tokens=max_new_tokens, **decoding).invoke(prompt)
            try:
                return parse(text)
            except OutputParserException as exc:
                reasons.append(str(exc).splitlines()[0])
        raise BotkitError(f"the model {bot.engine.name} gave no valid {what} in {attempts} tries "
                          f"(last: {reasons[-1]}); try again, or use a stronger model (`botkit models use`)")

    return RunnableLambda(run)
