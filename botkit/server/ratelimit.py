"""Per-key rate limits of `botkit serve`, on the `limits` library (what slowapi builds on): requests
and tokens a minute for every key (its own, else the server's default), and requests a minute per
visitor of a public widget key. Counters live in the server process's memory."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from botkit.config import ServerSettings
from botkit.server.keys import ApiKey

CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text, used before the tokenizer has run


class RateLimited(Exception):
    """A key (or a widget visitor) used up its minute: 429 with Retry-After."""

    def __init__(self, message: str, retry_after: int, limit: str):
        super().__init__(message)
        self.retry_after, self.limit = retry_after, limit


class TooCostly(Exception):
    """One request that alone needs more tokens than its key may use a minute: it can never pass (400)."""


def estimate_tokens(texts: list[str], max_new_tokens: int = 0) -> int:
    """Tokens a request may use, before it runs (the way OpenAI counts against a tokens-a-minute limit):
    its text's characters / 4, plus the completion tokens it may generate."""
    return math.ceil(sum(len(t) for t in texts) / CHARS_PER_TOKEN) + max_new_tokens


class RateLimits:
    """Admits or refuses requests by key. Requests count in a moving window (exact: the oldest request
    in the last minute says when the next may come); tokens in fixed one-minute windows, because a
    moving window keeps a timestamp per unit and a request costs hundreds of tokens."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        storage = MemoryStorage()
        self._requests = MovingWindowRateLimiter(storage)
        self._tokens = FixedWindowRateLimiter(storage)

    def admit(self, key: ApiKey, client: str) -> None:
        """Count one request of `key` (from `client`, an address); RateLimited when over a limit."""
        if key.public:  # one public key serves every visitor: each visitor gets a share, not all of it
            visitor = RateLimitItemPerMinute(self.settings.widget_requests_per_minute, namespace="visitor")
            self._hit(self._requests, visitor, 1, key.name, client, what="requests a minute from one visitor")
        item = RateLimitItemPerMinute(key.requests_per_minute or self.settings.requests_per_minute, namespace="rpm")
        self._hit(self._requests, item, 1, key.name, what="requests a minute")

    def charge(self, key: ApiKey, tokens: int) -> None:
        """Count `tokens` (an estimate, see `estimate_tokens`) against `key`'s tokens a minute."""
        budget = key.tokens_per_minute or self.settings.tokens_per_minute
        if tokens > budget:
            raise TooCostly(f"this request may use about {tokens} tokens, more than the {budget} a minute the key "
                            f"'{key.name}' may use: lower max_tokens or shorten the messages")
        item = RateLimitItemPerMinute(budget, namespace="tpm")
        self._hit(self._tokens, item, max(tokens, 1), key.name, what="tokens a minute")

    def _hit(self, limiter, item, cost: int, *identifiers: str, what: str) -> None:
        if limiter.hit(item, *identifiers, cost=cost):
            return
        reset = limiter.get_window_stats(item, *identifiers).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        raise RateLimited(f"rate limit: the key '{identifiers[0]}' may make {item.amount} {what}; "
                          f"retry after {wait} s", wait, item.namespace)
