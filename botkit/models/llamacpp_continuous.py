"""Continuous batching on the llama.cpp engine, for serving: chats join a running batch between decode
steps and leave it as they finish, so a request that arrives mid-batch starts at the next step instead
of waiting for the whole batch; the prompt start recent chats share (system prompt, few-shot turns) is
kept in one sequence and shared by cells, not read again, and so are finished chats (parked) for a
chat asked again: support questions repeat, and a repeat then reads only its last prompt token."""

from __future__ import annotations

from dataclasses import dataclass, field

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.models.engine import Generation, Messages, StopScanner
from botkit.models.llamacpp import LlamaCppEngine
from botkit.models.llamacpp_cells import PREFIX, Sequence, common_prefix


@dataclass
class Row(Sequence):
    """One chat in the running batch."""

    options: DecodingOptions = field(default_factory=DecodingOptions)
    in_prefix: int = 0  # how many of its first cells are the prefix sequence's (counted there, not here)
    start: int = 0  # cells taken from a parked chat: its prompt is read from here, apart from the prefix
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
    plus as many waiting prompt tokens as fit one decode call, `leave` parks a row whose prompt is read
    (its cells kept for a repeat, up to `Cells.parked_max` chats, least recently used dropped first)
    and frees the rest."""

    def __init__(self, engine: LlamaCppEngine):
        self.engine = engine
        self.cells = engine.cells
        self.rows: list[Row] = []
        self._pending: list[_Read] = []  # prompt tokens not decoded yet, in order
        self._prefix: list[int] = []  # what the prefix sequence holds (or will, once `_pending` is read)
        self._held = False
        self.reused = 0  # prompt tokens parked chats saved reading, beyond the prefix (for reports)

    def join(self, messages: Messages, options: DecodingOptions) -> Row | None:
        """Add a chat; None while there is no free sequence or cell for it, or while earlier prompts
        are still being read (a new prompt may share only cells that exist)."""
        e, cells = self.engine, self.cells
        prompt = e.chat_tokens(messages)
        if len(prompt) >= e.context_window:
            raise BotkitError(f"a prompt of {len(prompt)} tokens does not fit the context window ({e.context_window})")
        if self._pending or len(self.rows) >= e.max_batch:
            return None
        if not self._held:
            cells.lock.acquire()
            self._held = True
            self._prefix = list(cells.prefix)
            for seq_id in range(1, cells.n_seq_max):
                if seq_id not in cells.parked:
                    cells.remove(seq_id)
        # The prefix is cut back to what this prompt shares with it (at least its last token to read),
        # unless a parked chat gives this prompt more: then the row starts from that chat's cells.
        shared = min(common_prefix([self._prefix, prompt]) if self._prefix else 0, len(prompt) - 1)
        source, reused = cells.best_parked(prompt)
        if reused <= shared:
            source, reused = None, 0
        while self._cells_needed(prompt, options, shared, reused) > e.context_window and cells.parked:
            victim = next((s for s in cells.parked if s != source), source)  # least recently used first
            cells.unpark(victim)
            if victim == source:
                source, reused = None, 0
        if self._cells_needed(prompt, options, shared, reused) > e.context_window:
            if not self.rows:
                self.release()
                raise BotkitError(f"a prompt of {len(prompt)} tokens and {options.max_new_tokens} new ones do not "
                                  f"fit the context window ({e.context_window})")
            return None
        if source is None and shared < len(self._prefix):
            cells.remove(PREFIX, shared)
            self._prefix = self._prefix[:shared]
            for r in self.rows:
                r.in_prefix = min(r.in_prefix, shared)
        used = {r.seq_id for r in self.rows}
        seq_id = next(i for i in range(1, cells.first_parked) if i not in used)  # max_batch rows at most
        row = Row(seq_id, prompt, cells.sampler(options, prompt, 0), StopScanner(options.stop), options=options,
                  in_prefix=shared, start=reused)
        if source is not None:
            cells.copy(source, seq_id, reused)  # now: the parked chat may be dropped before the next step
            self.reused += reused - shared
        self.rows.append(row)
        return row

    def _cells_needed(self, prompt: list[int], options: DecodingOptions, shared: int, reused: int) -> int:
        """An upper bound of the cells in use once this prompt joins: the prefix's (cut back to `shared`
        unless the row reads from a parked chat), each row's own, each parked chat's own; with a stream of
        cells a chat, its own stream's."""
        if not self.cells.unified:
            return len(prompt) + options.max_new_tokens
        cut = len(self._prefix) if reused else shared
        rows = sum(len(r.prompt) + r.options.max_new_tokens - min(r.in_prefix, cut) for r in self.rows)
        parked = sum(len(tokens) - min(in_prefix, cut) for tokens, in_prefix in self.cells.parked.values())
        return cut + len(prompt) - max(shared, reused) + options.max_new_tokens + rows + parked

    def _plan(self) -> None:
        """The reads for the rows joined since the last step: the start they all share beyond the
        prefix once, for the prefix and all of them; then the rest of each prompt for its own row (a row
        started from a parked chat reads only what that chat did not hold)."""
        new = [r for r in self.rows if r.new]
        for r in new:
            if r.start:
                r.new = False
                self._pending += self._reads(r, r.start)
        new = [r for r in new if r.new]
        if not new:
            return
        start = len(self._prefix)  # every new row shares the prefix whole (`join` cut it back)
        shared = max(min(common_prefix([r.prompt for r in new]), min(len(r.prompt) for r in new) - 1), start)
        rows = tuple(r.seq_id for r in new)
        if shared > start:  # read into the prefix alone, copied to the rows once read (as `LlamaCppEngine._start`)
            self._pending += [_Read(pos, new[0].prompt[pos], PREFIX) for pos in range(start, shared)]
            self._pending[-1].copy_to = rows
        else:
            self._copy(rows, shared)
        self._prefix = new[0].prompt[:shared]
        for r in new:
            r.new, r.in_prefix = False, shared
            self._pending += self._reads(r, shared)

    @staticmethod
    def _reads(r: Row, start: int) -> list[_Read]:
        return [_Read(pos, r.prompt[pos], r.seq_id, r if pos == len(r.prompt) - 1 else None)
                for pos in range(start, len(r.prompt))]

    def _copy(self, seq_ids: tuple[int, ...], end: int) -> None:
        for seq_id in seq_ids if end else ():
            self.cells.copy(PREFIX, seq_id, end)

    def step(self) -> list[tuple[Row, str]]:
        """One decode call: the next token of every row reading no more, then waiting prompt tokens up to
        the batch size. Returns the text each sampled token adds; a finished row has `finish` set."""
        cells = self.cells
        self._plan()
        cells.reset_batch()
        tokens: list[tuple[int, int, int, Row | None]] = []  # (sequence, token, position, row that samples from it)
        for r in self.rows:
            if r.pos and r.finish is None:
                tokens.append((r.seq_id, r.tokens[-1], r.pos, r))
                r.pos, r.decoded = r.pos + 1, len(r.tokens)
        reads = self._pending[:cells.n_batch - len(tokens)]
        # The shared start ends a decode call: the rows read on from it only once it is copied to them.
        reads = next((reads[:n + 1] for n, read in enumerate(reads) if read.copy_to), reads)
        self._pending = self._pending[len(reads):]
        tokens += [(read.seq_id, read.token, read.pos, read.last_of) for read in reads]
        if not tokens:
            return []
        # In sequence order: over per-chat streams llama.cpp decodes consecutive sequences together, in
        # one pass (each sequence's tokens stay in order: the sort is stable).
        tokens.sort(key=lambda t: t[0])
        logits = [(r, cells.add(token, pos, seq_id, r is not None)) for seq_id, token, pos, r in tokens]
        logits = [(r, i) for r, i in logits if r is not None]
        cells.decode()
        if reads and reads[-1].copy_to:
            self._copy(reads[-1].copy_to, reads[-1].pos + 1)
        pieces = []
        for r, i in logits:
            if not r.pos:  # its prompt is read: the first reply token
                r.pos = len(r.prompt)
            pieces.append((r, cells.sample(r, i, r.options)))
        return pieces

    def result(self, row: Row) -> Generation:
        return self.engine.result(row)

    def leave(self, row: Row) -> None:
        """Remove a row (finished, or its reader left): parked when its prompt is in the cache, else
        its own cells freed."""
        self.rows.remove(row)
        if row.pos:
            self.cells.park(row.seq_id, row.prompt + row.tokens[:row.decoded], row.in_prefix)
        else:
            self.cells.remove(row.seq_id)
        self._pending = [read for read in self._pending if read.seq_id != row.seq_id]
        for read in self._pending:
            read.copy_to = tuple(i for i in read.copy_to if i != row.seq_id)

    def release(self) -> None:
        """Hand the engine back: its sequence 0 keeps the prefix read so far and parked chats stay, so
        the next call reuses them (a call other than a running batch's clears the parked ones)."""
        if not self._held:
            return
        for r in list(self.rows):
            self.leave(r)
        if self._pending:  # prefix tokens never read: the prefix ends before them
            cut = self._pending[0].pos
            self.cells.remove(PREFIX, cut)
            self._prefix, self._pending = self._prefix[:cut], []
        self.cells.prefix = list(self._prefix)
        self._held = False
        self.cells.lock.release()

    def reset(self) -> None:
        """After a failed decode: trust nothing in the cache, hand the engine back empty."""
        self._pending, self.rows, self._prefix = [], [], []
        if self._held:
            self.cells.clear()
        self.release()
