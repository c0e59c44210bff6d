"""The server's bots and how requests reach them: one request at a time per model (queued on a lock,
never interleaved), each on its own worker thread so the event loop (and /healthz) stays free, and
stopped as soon as its client leaves or its time is up."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator

from botkit.config import Settings
from botkit.dialogue import Bot
from botkit.errors import BotkitError
from botkit.feedback.reply_log import StoreReplyLog
from botkit.feedback.store import RankingStore

ACTIVE_ALIASES = ("botkit",)


class ModelNotFound(BotkitError):
    """A `model` that names nothing loadable here."""


class BotPool:
    """The active model's bot, plus bots for other models asked for by name, loaded on first use.
    Every bot logs its replies (origin "api") so feedback can name them."""

    def __init__(self, settings: Settings, engine=None, embedder=None, follow_promotions: bool = False):
        self.settings = settings
        # Follow `botkit models promote/rollback` (they rewrite the config's model and adapter): the
        # next request after a promotion is answered by the new version, without a restart.
        self.follow_promotions = follow_promotions
        self.active = self._bot(settings, engine, embedder)
        self._others: dict[str, Bot] = {}
        self._locks: dict[int, FairLock] = {id(self.active): FairLock()}
        self._loading = threading.Lock()
        self.waiting = 0  # requests queued or generating (worker threads alive), for /healthz
        self._count = threading.Lock()

    @staticmethod
    def _bot(settings: Settings, engine=None, embedder=None) -> Bot:
        bot = Bot(settings, engine=engine, embedder=embedder)
        bot.reply_log = StoreReplyLog(RankingStore(bot.db), origin="api")
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
                bot = self._bot(settings, embedder=self.active.embedder)
                try:
                    bot.engine  # noqa: B018 - load now, so a bad name fails here and not mid-answer
                except Exception as exc:  # any failure to load a named model means: not available here
                    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise ModelNotFound(f"the model '{model}' is not available here: {message}") from None
                self._others[model] = bot
                self._locks[id(bot)] = FairLock()
            return self._others[model]

    def _follow(self) -> None:
        from botkit.config import load_settings

        current = load_settings()
        if (current.model, current.adapter) == (self.settings.model, self.settings.adapter):
            return
        with self._loading:
            bot = self._bot(current, embedder=self.active.embedder)
            bot.engine  # noqa: B018 - load before switching, so requests never wait on a half-loaded model
            self._locks[id(bot)] = FairLock()
            self.settings, self.active = current, bot

    def lock(self, bot: Bot) -> FairLock:
        return self._locks[id(bot)]


class FairLock:
    """A lock granted in arrival order. threading.Lock is not fair: under load one request could wait
    far past its turn (and time out) while later ones go first. Waiters that give up leave the line."""

    def __init__(self):
        self._changed = threading.Condition()
        self._line: deque = deque()
        self._held = False

    def acquire(self, cancelled: threading.Event) -> bool:
        me = object()
        with self._changed:
            self._line.append(me)
            while self._held or self._line[0] is not me:
                if cancelled.is_set():
                    self._line.remove(me)
                    self._changed.notify_all()
                    return False
                self._changed.wait(0.1)
            self._line.popleft()
            self._held = True
            return True

    def release(self) -> None:
        with self._changed:
            self._held = False
            self._changed.notify_all()


async def run_exclusive(pool: BotPool, bot: Bot, work: Callable[[], Iterator], timeout: float) -> AsyncIterator:
    """Iterate `work()` on a worker thread while holding `bot`'s lock; yield its items on the event loop.

    Leaving early (client gone, asyncio.TimeoutError after `timeout` seconds in all) closes the
    iterator on its thread, which stops generation at the next token and frees the lock."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    cancelled = threading.Event()

    def hand_over(kind, value=None):
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:  # the event loop is gone (server shutting down): nobody is listening
            pass

    def worker():
        try:
            if not pool.lock(bot).acquire(cancelled):
                return
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
            finally:
                pool.lock(bot).release()
        except BaseException as exc:  # handed to the request, which turns it into an HTTP error
            hand_over("error", exc)
        else:
            hand_over("end")
        finally:
            with pool._count:
                pool.waiting -= 1

    with pool._count:
        pool.waiting += 1
    threading.Thread(target=worker, daemon=True, name="botkit-request").start()
    deadline = loop.time() + timeout
    try:
        while True:
            kind, value = await asyncio.wait_for(queue.get(), max(deadline - loop.time(), 0.001))
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        cancelled.set()
