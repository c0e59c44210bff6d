"""Token counts of everything generated inside a `metered()` block, e.g. one plugin run that
samples a batch and scores it. A context variable, so concurrent app sessions and API requests
(threads) each count only their own calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[dict | None] = ContextVar("botkit_usage", default=None)


@contextmanager
def metered() -> Iterator[dict]:
    """Yields a dict that, when the block ends, holds the block's prompt and completion tokens."""
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    token = _current.set(usage)
    try:
        yield usage
    finally:
        _current.reset(token)


def record(prompt_tokens: int, completion_tokens: int = 0) -> None:
    """Called by engines for every generation (and scoring pass); a no-op outside `metered()`."""
    usage = _current.get()
    if usage is not None:
        usage["prompt_tokens"] += int(prompt_tokens)
        usage["completion_tokens"] += int(completion_tokens)
