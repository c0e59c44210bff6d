"""The llama.cpp context a `LlamaCppEngine` decodes in, as its calls and its running batch share it: the
key/value cells by sequence (what sequence 0 holds, and finished chats kept for a repeat), one decode
batch, and turning a sampled token into a sequence's text."""

from __future__ import annotations

import codecs
import ctypes
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from botkit.decoding import DecodingOptions
from botkit.models.engine import StopScanner

PREFIX = 0  # the sequence that keeps the prompt start recent chats share


@dataclass
class Sequence:
    """One chat being decoded: its sampler, position and the text so far."""

    seq_id: int
    prompt: list[int]
    sampler: object
    scanner: StopScanner
    pos: int = 0
    decoded: int = 0  # generated tokens already in the cache
    tokens: list[int] = field(default_factory=list)
    decoder: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    finish: str | None = None
    first: str = ""  # text of the first token, sampled from the prompt's logits


class Cells:
    """A llama.cpp context and its decode batch. Hold `lock` while using it. `prefix` is what sequence 0
    holds; `parked` the finished chats whose cells are kept (least recently used first) so a chat asked
    again reads only what differs, in the last `parked_max` sequences (rows take the ones before them).
    `unified`: one pool of cells for every sequence, else a stream of cells each."""

    def __init__(self, llama_cpp, model, ctx, n_batch: int, max_batch: int, n_seq_max: int, context_window: int,
                 parked: int = 16, unified: bool = True):
        self.llama, self.ctx, self.n_batch, self.n_seq_max = llama_cpp, ctx, n_batch, n_seq_max
        self.context_window, self.unified = context_window, unified
        self.batch = _batch(n_batch, max_batch)
        self.lock = threading.Lock()
        self.prefix: list[int] = []
        # seq id -> (tokens its cells hold, how many of them are sequence 0's cells)
        self.parked: OrderedDict[int, tuple[list[int], int]] = OrderedDict()
        self.parked_max = parked
        self.tokens_decoded = 0  # tokens through llama_decode so far (prompt tokens read and replies)
        self._vocab, self._n_vocab = model.vocab, model.n_vocab()
        self._piece_buf = ctypes.create_string_buffer(256)

    # -- cells

    def remove(self, seq_id: int, start: int = -1, end: int = -1) -> None:
        self.llama.llama_memory_seq_rm(self.ctx.memory, seq_id, start, end)

    def copy(self, source: int, target: int, end: int = -1) -> None:
        """`target` gets `source`'s cells of the positions before `end` (-1: all). In one pool of cells it
        shares them (no data moves); across streams llama.cpp copies the whole stream (at the next decode,
        before that decode's tokens are written), which is then cut back to `end`."""
        if source == target:
            return
        if self.unified:
            self.llama.llama_memory_seq_cp(self.ctx.memory, source, target, 0, end)
            return
        self.llama.llama_memory_seq_cp(self.ctx.memory, source, target, -1, -1)
        if end >= 0:
            self.remove(target, end)

    def clear(self) -> None:
        """Empty every cell (after a failed decode nothing in them is trusted)."""
        self.llama.llama_memory_clear(self.ctx.memory, True)
        self.prefix, self.parked = [], OrderedDict()

    def keep_prefix(self, prompt: list[int]) -> int:
        """Keep sequence 0's cells that `prompt` starts with (at least one token left to read), clear
        every other sequence; how many tokens are kept."""
        shared = min(common_prefix([self.prefix, prompt]) if self.prefix else 0, len(prompt) - 1)
        self.remove(PREFIX, shared)
        for seq_id in range(1, self.n_seq_max):
            self.remove(seq_id)
        self.prefix, self.parked = list(prompt[:shared]), OrderedDict()
        return shared

    @property
    def first_parked(self) -> int:
        """The first sequence id that holds parked chats; rows use 1 up to it."""
        return self.n_seq_max - self.parked_max

    def park(self, seq_id: int, tokens: list[int], in_prefix: int) -> None:
        """Keep a finished chat's cells (its prompt and the reply tokens in the cache: `tokens`, of which
        the first `in_prefix` share sequence 0's cells) for a repeat, moved from row `seq_id` to a parked
        sequence; a chat it holds whole goes, and past `parked_max` the least recently used. Rows keep
        ids 1, 2, 3...: llama.cpp decodes per-chat streams in one pass only for consecutive ids."""
        for other, (held, _) in list(self.parked.items()):
            if tokens[:len(held)] == held:
                self.unpark(other)
        if self.parked_max:
            if len(self.parked) >= self.parked_max:
                self.unpark(next(iter(self.parked)))
            target = next(i for i in range(self.first_parked, self.n_seq_max) if i not in self.parked)
            self.copy(seq_id, target)
            self.parked[target] = (tokens, in_prefix)
        self.remove(seq_id)

    def unpark(self, seq_id: int) -> None:
        self.remove(seq_id)
        del self.parked[seq_id]

    def best_parked(self, prompt: list[int]) -> tuple[int | None, int]:
        """The parked chat sharing the longest start with `prompt` (at most all but its last token)
        and that length; marks it recently used."""
        best, length = None, 0
        for seq_id, (tokens, _) in self.parked.items():
            n = min(common_prefix([tokens, prompt]), len(prompt) - 1)
            if n > length:
                best, length = seq_id, n
        if best is not None:
            self.parked.move_to_end(best)
        return best, length

    # -- decoding

    def reset_batch(self) -> None:
        self.batch.reset()

    @property
    def n_tokens(self) -> int:
        return self.batch.batch.n_tokens

    def add(self, token: int, pos: int, seq_id: int, logits: bool) -> int:
        """Add a token to the batch; its row (where its logits will be)."""
        b = self.batch.batch
        n = b.n_tokens
        b.token[n], b.pos[n], b.n_seq_id[n], b.logits[n] = token, pos, 1, logits
        b.seq_id[n][0] = seq_id
        b.n_tokens = n + 1
        return n

    def decode(self) -> None:
        self.ctx.decode(self.batch)
        self.tokens_decoded += self.batch.batch.n_tokens

    def sample(self, seq: Sequence, row: int, options: DecodingOptions) -> str:
        """Sample `seq`'s next token from batch row `row`; the text it adds."""
        return self.take(seq, seq.sampler.sample(self.ctx, row), options)

    def take(self, s: Sequence, token: int, options: DecodingOptions) -> str:
        """Record a sampled token; returns the text it adds (after stop strings) and sets `finish`."""
        if self.llama.llama_vocab_is_eog(self._vocab, token):
            s.finish = "stop"
            return s.scanner.feed(s.decoder.decode(b"", final=True)) + s.scanner.flush()
        s.sampler.accept(token)
        s.tokens.append(token)
        shown = s.scanner.feed(s.decoder.decode(self._token_bytes(token)))
        if s.scanner.stopped:
            s.finish = "stop"
        elif len(s.tokens) >= options.max_new_tokens or s.pos + 1 >= self.context_window:
            s.finish = "length"
            shown += s.scanner.feed(s.decoder.decode(b"", final=True)) + s.scanner.flush()
        return shown

    def _token_bytes(self, token: int) -> bytes:
        n = self.llama.llama_token_to_piece(self._vocab, token, self._piece_buf, len(self._piece_buf), 0, False)
        return self._piece_buf.raw[:n] if n >= 0 else b""

    def sampler(self, options: DecodingOptions, prompt: list[int], index: int):
        """A llama.cpp sampler chain for `options` (`index`: which of a batch's chats, for its seed)."""
        from llama_cpp import _internals

        sampler = _internals.LlamaSampler()
        if options.repetition_penalty != 1.0:
            # Like transformers: prompt tokens count as repeated too.
            sampler.add_penalties(self._n_vocab, self.context_window, options.repetition_penalty, 0.0, 0.0)
        if options.strategy == "sample":  # transformers' order: temperature, then top-k, then top-p
            sampler.add_temp(options.temperature)
            if options.top_k:
                sampler.add_top_k(options.top_k)
            sampler.add_top_p(options.top_p, 1)
            seed = (options.seed + index) & 0xFFFFFFFF if options.seed is not None else self.llama.LLAMA_DEFAULT_SEED
            sampler.add_dist(seed)
        else:  # greedy; llama.cpp has no beam search, so beam decodes greedily here
            sampler.add_greedy()
        if options.repetition_penalty != 1.0:
            for token in prompt:
                sampler.accept(token)
        return sampler

    def logits(self, row: int) -> np.ndarray:
        pointer = self.llama.llama_get_logits_ith(self.ctx.ctx, row)
        return np.ctypeslib.as_array(pointer, shape=(self._n_vocab,)).astype(np.float64)


def _batch(n_tokens: int, n_seq_max: int):
    from llama_cpp import _internals

    return _internals.LlamaBatch(n_tokens=n_tokens, embd=0, n_seq_max=n_seq_max, verbose=False)


def common_prefix(prompts: list[list[int]]) -> int:
    """How many tokens every one of `prompts` starts with."""
    first, n = prompts[0], min(map(len, prompts))
    for i in range(n):
        if any(p[i] != first[i] for p in prompts[1:]):
            return i
    return n
