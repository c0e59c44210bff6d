"""Continuous batching on the llama.cpp engine, for serving: chats join a running batch between decode
steps and leave it as they finish, so a request that arrives mid-batch starts at the next step instead
of waiting for the whole batch; the prompt start recent chats share (system prompt, few-shot turns) is
kept in one sequence and shared by cells, not read again."""

from __future__ import annotations

from dataclasses import dataclass, field

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.models.engine import Generation, Messages, StopScanner
from botkit.models.llamacpp import LlamaCppEngine, _common_prefix, _Sequence

PREFIX = 0  # the sequence that keeps the shared prompt start between chats (the engine's sequence 0)


@dataclass
class Row(_Sequence):
    """One chat in the running batch."""

    options: DecodingOptions = field(default_factory=DecodingOptions)
    in_prefix: int = 0  # how many of its first cells are the prefix sequence's (counted there, not here)
    new: bool = True  # joined since the last step: its prompt is not planned yet


@dataclass
class _Read:
    """A prompt token to decode into sequence `seq_id`; `last_of`: the row whose first reply token
    comes from its logits (its prompt's last token); `copy_to`: the rows that share the prefix up to
    this token, copied to them once it is read."""

    pos: int
    token: int
    seq_id: int
    last_of: Row | None = None
    copy_to: tuple[int, ...] = ()


class ContinuousBatch:
    """A running batch over `engine`'s context. Holds the engine's lock from the first `join` until
    `release` (call it once `rows` is empty): nothing else may touch the cache meanwhile.

    `join` a chat (None: no room now), `step` decodes one token of every row that has read its prompt
    plus as many waiting prompt tokens as fit one decode call, `leave` frees a row's cells."""

    def __init__(self, engine: LlamaCppEngine):
        self.engine = engine
        self._llama = engine._llama
        self._batch = engine._batch  # the engine's own: its lock is held while this batch runs
        self.rows: list[Row] = []
        self._pending: list[_Read] = []  # prompt tokens not decoded yet, in order
        self._prefix: list[int] = []  # what the prefix sequence holds (or will, once `_pending` is read)
        self._held = False

    def join(self, messages: Messages, options: DecodingOptions) -> Row | None:
        """Add a chat; None while there is no free sequence or cell for it, or while earlier prompts
        are still being read (a new prompt may share only cells that exist)."""
        e = self.engine
        prompt = e._chat_tokens(messages)
        if len(prompt) >= e.context_window:
            raise BotkitError(f"a prompt of {len(prompt)} tokens does not fit the context window ({e.context_window})")
        used = {r.seq_id for r in self.rows}
        free = [i for i in range(1, e.n_seq_max) if i not in used]
        if self._pending or not free:
            return None
        if not self._held:
            e._lock.acquire()
            self._held = True
            self._prefix = list(e._kv_tokens)  # what the engine's sequence 0 holds
            for seq_id in range(1, e.n_seq_max):
                self._llama.llama_memory_seq_rm(e._ctx.memory, seq_id, -1, -1)
        # The prefix is cut back to what this prompt shares with it (at least its last token to read).
        shared = min(_common_prefix([self._prefix, prompt]) if self._prefix else 0, len(prompt) - 1)
        # Cells once the prefix is cut back: the prefix's, this row's own and each row's own (an upper bound).
        cells = shared + (len(prompt) - shared + options.max_new_tokens) + sum(
            len(r.prompt) + r.options.max_new_tokens - min(r.in_prefix, shared) for r in self.rows)
        if cells > e.context_window:
            if not self.rows:
                self.release()
                raise BotkitError(f"a prompt of {len(prompt)} tokens and {options.max_new_tokens} new ones do not "
                                  f"fit the context window ({e.context_window})")
            return None
        if shared < len(self._prefix):
            self._llama.llama_memory_seq_rm(e._ctx.memory, PREFIX, shared, -1)
            self._prefix = self._prefix[:shared]
            for r in self.rows:
                r.in_prefix = min(r.in_prefix, shared)
        row = Row(free[0], prompt, e._sampler(options, prompt, 0), StopScanner(options.stop), options=options,
                  in_prefix=shared)
        self.rows.append(row)
        return row

    def _plan(self) -> None:
        """The reads for the rows joined since the last step: the start they all share beyond the
        prefix once, for the prefix and all of them; then the rest of each prompt for its own row."""
        new = [r for r in self.rows if r.new]
        if not new:
            return
        start = len(self._prefix)  # every new row shares the prefix whole (`join` cut it back)
        shared = max(min(_common_prefix([r.prompt for r in new]), min(len(r.prompt) for r in new) - 1), start)
        rows = tuple(r.seq_id for r in new)
        if shared > start:  # read into the prefix alone, copied to the rows once read (as `LlamaCppEngine._start`)
            self._pending += [_Read(pos, new[0].prompt[pos], PREFIX) for pos in range(start, shared)]
            self._pending[-1].copy_to = rows
        else:
            self._copy(rows, shared)
        self._prefix = new[0].prompt[:shared]
        for r in new:
            r.new, r.in_prefix = False, shared
            self._pending += [_Read(pos, r.prompt[pos], r.seq_id, r if pos == len(r.prompt) - 1 else None)
                              for pos in range(shared, len(r.prompt))]

    def _copy(self, seq_ids: tuple[int, ...], end: int) -> None:
        for seq_id in seq_ids if end else ():
            self._llama.llama_memory_seq_cp(self.engine._ctx.memory, PREFIX, seq_id, 0, end)

    def step(self) -> list[tuple[Row, str]]:
        """One decode call: the next token of every row reading no more, then waiting prompt tokens up to
        the batch size. Returns the text each sampled token adds; a finished row has `finish` set."""
        e = self.engine
        self._plan()
        self._batch.reset()
        logits: list[tuple[Row, int]] = []
        for r in self.rows:
            if r.pos and r.finish is None:
                logits.append((r, self._add(r.tokens[-1], r.pos, r.seq_id, True)))
                r.pos, r.decoded = r.pos + 1, len(r.tokens)
        room = e._n_batch - self._batch.batch.n_tokens
        reads = self._pending[:room]
        # The shared start ends a decode call: the rows read on from it only once it is copied to them.
        reads = next((reads[:n + 1] for n, read in enumerate(reads) if read.copy_to), reads)
        self._pending = self._pending[len(reads):]
        for read in reads:
            row = self._add(read.token, read.pos, read.seq_id, read.last_of is not None)
            if read.last_of is not None:
                logits.append((read.last_of, row))
        if not self._batch.batch.n_tokens:
            return []
        e._ctx.decode(self._batch)
        if reads and reads[-1].copy_to:
            self._copy(reads[-1].copy_to, reads[-1].pos + 1)
        pieces = []
        for r, i in logits:
            if not r.pos:  # its prompt is read: the first reply token
                r.pos = len(r.prompt)
            pieces.append((r, e._take(r, r.sampler.sample(e._ctx, i), r.options)))
        return pieces

    def result(self, row: Row) -> Generation:
        return self.engine._result(row)

    def leave(self, row: Row) -> None:
        """Remove a row (finished, or its reader left) and free its own cells."""
        self.rows.remove(row)
        self._llama.llama_memory_seq_rm(self.engine._ctx.memory, row.seq_id, -1, -1)
        self._pending = [read for read in self._pending if read.seq_id != row.seq_id]
        for read in self._pending:
            read.copy_to = tuple(i for i in read.copy_to if i != row.seq_id)

    def release(self) -> None:
        """Hand the engine back: its sequence 0 keeps the prefix read so far, so the next call reuses it."""
        if not self._held:
            return
        for r in list(self.rows):
            self.leave(r)
        if self._pending:  # prefix tokens never read: the prefix ends before them
            cut = self._pending[0].pos
            self._llama.llama_memory_seq_rm(self.engine._ctx.memory, PREFIX, cut, -1)
            self._prefix, self._pending = self._prefix[:cut], []
        self.engine._kv_tokens = list(self._prefix)
        self._held = False
        self.engine._lock.release()

    def reset(self) -> None:
        """After a failed decode: trust nothing in the cache, hand the engine back empty."""
        self._pending, self.rows, self._prefix = [], [], []
        if self._held:
            self._llama.llama_memory_clear(self.engine._ctx.memory, True)
        self.release()

    def _add(self, token: int, pos: int, seq_id: int, logits: bool) -> int:
        n = self._batch.batch.n_tokens
        self.engine._add(token, pos, seq_id, logits)
        return n
