"""The server's bots and how requests reach them: each request runs on its own worker thread (so the
event loop and /healthz stay free), concurrent requests to one model share batched generate calls
(`BatchingEngine`), at most `server.max_queue` are in at once (past that: 429), and a request stops
as soon as its client leaves or its time is up."""

from __future__ import annotations

import asyncio
import math
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator

from botkit.config import Settings
from botkit.dialogue import Bot
from botkit.embeddings import Embedder
from botkit.errors import BotkitError
from botkit.feedback.reply_log import StoreReplyLog
from botkit.feedback.store import RankingStore
from botkit.models.engine_settings import limit_malloc_arenas
from botkit.server.batching import BatchingEngine
from botkit.server.sentence_vectors import warm_sentence_vectors

ACTIVE_ALIASES = ("botkit",)


class ModelNotFound(BotkitError):
    """A `model` that names nothing loadable here."""


class ServerBusy(Exception):
    """The queue is full: the request is refused at once (429) rather than left to time out."""

    def __init__(self, inside: int, retry_after: int):
        super().__init__(f"the server is busy ({inside} requests in progress): retry after {retry_after} s")
        self.retry_after = retry_after


class SharedEmbedder(Embedder):
    """The embedder, one call at a time: requests on worker threads share it, and transformers' fast
    tokenizer used by two threads at once fails ("Already borrowed"); llama.cpp's context is one too."""

    def __init__(self, embedder: Embedder):
        self.__dict__.update(embedder.__dict__)
        self._lock = threading.Lock()

    def encode(self, texts: list[str], progress: bool = False):
        with self._lock:
            return super().encode(texts, progress)


class Admission:
    """Counts requests in the server (waiting for the model or generating) and refuses more than
    `limit`, or any whose wait would likely run past `timeout` at the recent pace: a request is
    either admitted and answered, or told at once (429) when to come back, never left to time out."""

    def __init__(self, limit: int, timeout: float):
        self.limit, self.timeout = limit, timeout
        self.inside = 0
        self.rate: float | None = None  # requests answered per second lately (unknown until some are)
        self._paces: deque[float] = deque(maxlen=8)
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            expected = (self.inside + 1) / self.rate if self.rate else 0.0
            if self.inside >= self.limit or (self.inside and expected > 0.8 * self.timeout):
                # One place frees every 1 / rate seconds on average.
                raise ServerBusy(self.inside, max(1, math.ceil(1 / self.rate)) if self.rate else 1)
            self.inside += 1

    def leave(self, seconds: float) -> None:
        with self._lock:
            # Little's law: `inside` requests, each in for `seconds`, leave at inside / seconds a second.
            self._paces.append(self.inside / max(seconds, 1e-3))
            # The slowest recent pace: one quick answer (a question asked again, its vectors and
            # prompt cached) must not let in a crowd that a slow batch then leaves to time out.
            self.rate = min(self._paces)
            self.inside -= 1


class BotPool:
    """The active model's bot, plus bots for other models asked for by name, loaded on first use.
    Every bot logs its replies (origin "api") so feedback can name them, and generates through a
    `BatchingEngine` so concurrent requests share its model."""

    def __init__(self, settings: Settings, engine=None, embedder=None, follow_promotions: bool = False,
                 warm: bool = False):
        self.settings = settings
        limits = settings.server
        self.admission = Admission(limits.max_queue, limits.generation_timeout)
        # Follow `botkit models promote/rollback` (they rewrite the config's model and adapter): the
        # next request after a promotion is answered by the new version, without a restart.
        self.follow_promotions = follow_promotions
        self._embedder = SharedEmbedder(embedder) if isinstance(embedder, Embedder) else embedder
        limit_malloc_arenas()
        self.active = self._bot(settings, engine)
        share_cores(self.active.engine.engine, self.embedder)
        self._others: dict[str, Bot] = {}
        self._loading = threading.Lock()
        if warm:  # the knowledge's sentence vectors, embedded while no request is in (`warm_sentence_vectors`)
            idle = lambda: self.admission.inside == 0  # noqa: E731
            threading.Thread(target=warm_sentence_vectors, args=(self.active, idle), daemon=True,
                             name="botkit-warm").start()

    @property
    def waiting(self) -> int:
        """Requests in the server right now (queued or generating), for /healthz."""
        return self.admission.inside

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = SharedEmbedder(Embedder())
        return self._embedder

    def _bot(self, settings: Settings, engine=None) -> Bot:
        bot = Bot(settings, engine=engine, embedder=self.embedder)
        bot.reply_log = StoreReplyLog(RankingStore(bot.db), origin="api")
        limits = self.settings.server
        # Loaded here, so a bad model fails at once; wrapped so concurrent requests share it.
        bot._engine = BatchingEngine(bot.engine, max_batch=limits.max_batch, window=limits.batch_window)
        return bot

    def active_names(self) -> list[str]:
        names = [*ACTIVE_ALIASES, self.settings.model, self.active.engine.name]
        return list(dict.fromkeys(names))

    def loaded(self) -> dict[str, Bot]:
        return {self.active.engine.name: self.active, **self._others}

    def get(self, model: str) -> Bot:
        """The bot for `model`: the active one for its names, else that model loaded (once)."""
        model = (model or "").strip()
        if self.follow_promotions:
            self._follow()
        if not model or model in self.active_names():
            return self.active
        with self._loading:
            if model not in self._others:
                settings = self.settings.model_copy(update={"model": model, "adapter": None})
                try:
                    bot = self._bot(settings)  # loads now, so a bad name fails here and not mid-answer
                except Exception as exc:  # any failure to load a named model means: not available here
                    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise ModelNotFound(f"the model '{model}' is not available here: {message}") from None
                self._others[model] = bot
            return self._others[model]

    def _follow(self) -> None:
        from botkit.config import load_settings

        current = load_settings()
        if (current.model, current.adapter) == (self.settings.model, self.settings.adapter):
            return
        with self._loading:
            if (current.model, current.adapter) == (self.settings.model, self.settings.adapter):
                return  # another request switched meanwhile
            # Loaded before switching, so requests never wait on a half-loaded model.
            bot, old = self._bot(current), self.active
            self.settings, self.active = current, bot
            old.engine.close()  # its scheduler ends once the requests already queued are answered


def share_cores(engine, embedder: Embedder | None = None) -> None:
    """The serving thread policy: when llama.cpp generates, the embedder only embeds short texts and
    gets one thread, so generation and embedding together never ask for much more than the cores
    there are (OpenMP threads also wait passively: `passive_omp_threads`)."""
    from botkit.models.transformers_engine import TransformersEngine

    if isinstance(engine, TransformersEngine):
        return
    if isinstance(embedder, Embedder):
        embedder.use_threads(1)
    elif "torch" in sys.modules:
        import torch

        torch.set_num_threads(1)


async def run_request(pool: BotPool, work: Callable[[], Iterator], timeout: float) -> AsyncIterator:
    """Admit a request (ServerBusy past the queue bound), iterate `work()` on a worker thread and
    yield its items on the event loop.

    Leaving early (client gone, asyncio.TimeoutError after `timeout` seconds in all) closes the
    iterator on its thread, which stops generation at the next token."""
    pool.admission.enter()
    loop = asyncio.get_running_loop()
    items_queue: asyncio.Queue = asyncio.Queue()
    cancelled = threading.Event()
    started = loop.time()

    def hand_over(kind, value=None):
        try:
            loop.call_soon_threadsafe(items_queue.put_nowait, (kind, value))
        except RuntimeError:  # the event loop is gone (server shutting down): nobody is listening
            pass

    def worker():
        try:
            if cancelled.is_set():
                return
            items = work()
            try:
                for item in items:
                    if cancelled.is_set():
                        break
                    hand_over("item", item)
            finally:
                close = getattr(items, "close", None)
                if close:
                    close()
        except BaseException as exc:  # handed to the request, which turns it into an HTTP error
            hand_over("error", exc)
        else:
            hand_over("end")
        finally:
            pool.admission.leave(loop.time() - started)

    threading.Thread(target=worker, daemon=True, name="botkit-request").start()
    deadline = loop.time() + timeout
    try:
        while True:
            kind, value = await asyncio.wait_for(items_queue.get(), max(deadline - loop.time(), 0.001))
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        cancelled.set()
