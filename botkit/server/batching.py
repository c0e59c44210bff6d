"""One model shared by concurrent requests: on an engine with a running batch (`continuous_batch`:
llama.cpp) each stream joins it at the next decode step; elsewhere calls that arrive together (within
a few milliseconds, or while the model was busy) are generated together, streamed row by row where the
engine can (`stream_batch`), else by one `generate_batch` call; a request alone streams."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from botkit.decoding import DecodingOptions
from botkit.models.engine import Generation, Messages
from botkit.usage import record

_END = object()  # a job's last item
_CLOSE = object()  # stops the scheduler


@dataclass
class _Job:
    messages: Messages
    options: DecodingOptions
    streaming: bool
    out: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancelled: threading.Event = field(default_factory=threading.Event)


class BatchingEngine:
    """An `Engine` in front of another, for many threads at once. One scheduler thread runs the
    engine: it takes the first waiting call, waits `window` seconds for others, and serves up to
    `max_batch` calls with the same decoding options together. A streaming call keeps its
    token-by-token stream and stops generating when its reader leaves (a grounded answer leaves at
    its last checked sentence), alone or in a batch on an engine with `stream_batch`; elsewhere a
    batch is one `generate_batch`. Token usage is recorded in the caller's thread, so
    `botkit.usage.metered` blocks count their own calls."""

    def __init__(self, engine, max_batch: int = 8, window: float = 0.005):
        self.engine, self.max_batch, self.window = engine, max_batch, window
        self._jobs: queue.Queue = queue.Queue()
        self.batches: list[int] = []  # sizes of the last calls (running batch: rows a step), for tests and reports
        threading.Thread(target=self._schedule, daemon=True, name="botkit-batcher").start()

    def __getattr__(self, name: str):
        # name, context_window, count_tokens, count_text, score...: the engine's own (thread-safe) parts.
        return getattr(self.engine, name)

    def close(self) -> None:
        """Stop the scheduler once the calls already waiting are served (the engine is replaced)."""
        self._jobs.put(_CLOSE)

    def stream(self, messages: Messages, options: DecodingOptions) -> Iterator[str | Generation]:
        job = _Job(messages, options, streaming=True)
        self._jobs.put(job)
        try:
            while (item := job.out.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, Generation):
                    record(item.prompt_tokens, item.completion_tokens)
                yield item
        finally:
            job.cancelled.set()

    def generate_batch(self, chats: list[Messages], options: DecodingOptions) -> list[Generation]:
        jobs = [_Job(chat, options, streaming=False) for chat in chats]
        for job in jobs:
            self._jobs.put(job)
        results = []
        for job in jobs:
            item = job.out.get()
            if isinstance(item, BaseException):
                raise item
            record(item.prompt_tokens, item.completion_tokens)
            results.append(item)
        return results

    def generate(self, messages: Messages, options: DecodingOptions) -> Generation:
        return self.generate_batch([messages], options)[0]

    def _schedule(self) -> None:
        if hasattr(self.engine, "continuous_batch"):
            self._schedule_continuously()
            return
        while True:
            waiting = [self._jobs.get()]
            deadline = time.monotonic() + self.window
            while waiting[-1] is not _CLOSE:
                try:
                    waiting.append(self._jobs.get(timeout=max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    break
            closing = waiting[-1] is _CLOSE
            jobs = [j for j in waiting if j is not _CLOSE and not j.cancelled.is_set()]
            groups: dict[str, list[_Job]] = {}
            for job in jobs:
                groups.setdefault(job.options.model_dump_json(), []).append(job)
            for group in groups.values():
                for start in range(0, len(group), self.max_batch):
                    self._run(group[start:start + self.max_batch])
            if closing:
                return

    def _schedule_continuously(self) -> None:
        """Streams join the engine's running batch between decode steps (`continuous_batch`) as they
        arrive and leave it as they finish; a call that is not a stream (a task's batch) waits for the
        running batch to empty, and streams behind it wait for it (first come, first served)."""
        batch, waiting, running, closing = self.engine.continuous_batch(), [], {}, False
        while True:
            if not running and not waiting:
                if closing:
                    return
                waiting.append(self._jobs.get())
            while True:  # whatever else has arrived
                try:
                    waiting.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            closing = closing or _CLOSE in waiting
            waiting = [j for j in waiting if j is not _CLOSE and not j.cancelled.is_set()]
            while waiting and waiting[0].streaming:
                try:
                    row = batch.join(waiting[0].messages, waiting[0].options)
                except Exception as exc:  # a prompt that can never fit: its caller hears why
                    waiting.pop(0).out.put(exc)
                    continue
                if row is None:
                    break  # no room until a row leaves
                running[id(row)] = (waiting.pop(0), row)
            if not running:
                if waiting:  # not a stream: the engine's own batched call, alone
                    options = waiting[0].options.model_dump_json()
                    group = [j for j in waiting if not j.streaming and j.options.model_dump_json() == options]
                    group = group[:self.max_batch]
                    waiting = [j for j in waiting if j not in group]
                    self._run(group)
                continue
            self.batches = [*self.batches[-99:], len(running)]
            try:
                pieces = batch.step()
            except Exception as exc:  # every row hears of it; the cache starts again empty
                for job, _ in running.values():
                    job.out.put(exc)
                running.clear()
                batch.reset()
                continue
            for row, piece in pieces:
                if piece:
                    running[id(row)][0].out.put(piece)
            for key, (job, row) in list(running.items()):
                if row.finish is not None or job.cancelled.is_set():
                    if row.finish is not None:
                        job.out.put(batch.result(row))
                        job.out.put(_END)
                    batch.leave(row)
                    del running[key]
            if not running:
                batch.release()  # the engine is free for other calls (scoring) until the next stream

    def _run(self, jobs: list[_Job]) -> None:
        self.batches = [*self.batches[-99:], len(jobs)]
        try:
            if len(jobs) == 1 and jobs[0].streaming:
                self._stream(jobs[0])
                return
            if hasattr(self.engine, "stream_batch"):
                self._stream_batch(jobs)
                return
            generations = self.engine.generate_batch([j.messages for j in jobs], jobs[0].options)
        except Exception as exc:  # handed to every caller, in its own thread
            for job in jobs:
                job.out.put(exc)
            return
        for job, generation in zip(jobs, generations):
            if job.streaming:
                if generation.text:
                    job.out.put(generation.text)
                job.out.put(generation)
                job.out.put(_END)
            else:
                job.out.put(generation)

    def _stream_batch(self, jobs: list[_Job]) -> None:
        """Rows stream to their callers as they are decoded; a row whose reader left stops."""
        rows = self.engine.stream_batch([j.messages for j in jobs], jobs[0].options,
                                        unwanted=lambda i: jobs[i].cancelled.is_set())
        pending = set(range(len(jobs)))
        try:
            for i, item in rows:
                job = jobs[i]
                if isinstance(item, Generation):
                    pending.discard(i)
                    job.out.put(item)
                    if job.streaming:
                        job.out.put(_END)
                elif job.streaming and item:
                    job.out.put(item)
        except Exception as exc:  # the rows not finished yet hear of it
            for i in pending:
                jobs[i].out.put(exc)
        finally:
            if hasattr(rows, "close"):
                rows.close()

    def _stream(self, job: _Job) -> None:
        pieces = self.engine.stream(job.messages, job.options)
        try:
            for piece in pieces:
                if job.cancelled.is_set():
                    break  # its reader left: stop generating for nobody
                job.out.put(piece)
        finally:
            if hasattr(pieces, "close"):
                pieces.close()
        job.out.put(_END)
