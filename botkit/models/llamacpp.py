"""The llama.cpp engine (llama-cpp-python): runs a GGUF as it is, quantized, with a model version's
LoRA adapter converted to llama.cpp's adapter format. Several chats decode together as parallel
sequences of one context; identical prompts are read once, and so is the start every prompt of a
batch shares (the system prompt); a chat that extends the previous one reuses its key/value cache."""

from __future__ import annotations

import codecs
import ctypes
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.models.engine import Generation, Messages, StopScanner
from botkit.models.engine_settings import passive_omp_threads
from botkit.usage import record


@dataclass
class _Sequence:
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


class LlamaCppEngine:
    """A GGUF model on llama.cpp; `threads` CPU threads; `context` KV cells shared by a batch."""

    def __init__(self, gguf: Path, name: str, threads: int, context: int = 4096, max_batch: int = 8,
                 lora: Path | None = None):
        passive_omp_threads()  # before libgomp loads with llama.cpp
        import llama_cpp
        from llama_cpp import _internals
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # llama.cpp's load chatter
        self._llama = llama_cpp
        self.name, self.gguf, self.threads, self.max_batch = name, Path(gguf), threads, max_batch
        try:
            self._model = _internals.LlamaModel(path_model=str(gguf), params=llama_cpp.llama_model_default_params(),
                                                verbose=False)
        except ValueError as exc:
            raise BotkitError(f"llama.cpp cannot load {gguf}: {exc}") from exc
        self.context_window = min(context, self._model.n_ctx_train())
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = self.context_window
        params.n_batch = params.n_ubatch = min(512, self.context_window)
        # One sequence more than a batch: serving keeps the shared prompt start apart (`continuous_batch`).
        params.n_seq_max = self.n_seq_max = max_batch + 1
        params.kv_unified = True  # one pool of cells: a lone chat may use the whole window
        params.n_threads = params.n_threads_batch = threads
        params.no_perf = True
        self._ctx = _internals.LlamaContext(model=self._model, params=params, verbose=False)
        self._batch = _internals.LlamaBatch(n_tokens=params.n_batch, embd=0, n_seq_max=max_batch, verbose=False)
        self._n_batch = params.n_batch
        self._vocab = self._model.vocab
        self._n_vocab = self._model.n_vocab()
        self._piece_buf = ctypes.create_string_buffer(256)
        if lora is not None:
            self._apply_lora(Path(lora))
        meta = self._model.metadata()
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise BotkitError(f"{gguf} has no chat template (tokenizer.chat_template): use engine transformers")
        bos, eos = self._model.token_bos(), self._model.token_eos()
        self._bos_text = self._model.token_get_text(bos) if bos >= 0 else ""
        self._template = Jinja2ChatFormatter(template, eos_token=self._model.token_get_text(eos) if eos >= 0 else "",
                                             bos_token=self._bos_text)
        self._lock = threading.Lock()
        self._kv_tokens: list[int] = []  # what sequence 0 holds in the cache, for prefix reuse

    def _apply_lora(self, path: Path) -> None:
        llama_cpp = self._llama
        adapter = llama_cpp.llama_adapter_lora_init(self._model.model, str(path).encode())
        if adapter is None:
            raise BotkitError(f"llama.cpp cannot load the adapter {path}: does it fit {self.gguf.name}?")
        # freed with the model
        adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
        if llama_cpp.llama_set_adapters_lora(self._ctx.ctx, adapters, 1, (ctypes.c_float * 1)(1.0)):
            raise BotkitError(f"llama.cpp cannot apply the adapter {path}")

    # -- text and tokens

    def render(self, messages: Messages) -> str:
        return self._template(messages=messages).prompt

    def _tokenize(self, text: str, bos: bool = False, special: bool = True) -> list[int]:
        return self._model.tokenize(text.encode(), add_bos=bos, special=special)

    def _chat_tokens(self, messages: Messages) -> list[int]:
        text = self.render(messages)
        bos = self._model.add_bos_token() and not (self._bos_text and text.startswith(self._bos_text))
        return self._tokenize(text, bos=bos)

    def count_tokens(self, messages: Messages) -> int:
        return len(self._chat_tokens(messages))

    def count_text(self, text: str) -> int:
        return len(self._tokenize(text, special=False))

    # -- generation

    def generate(self, messages: Messages, options: DecodingOptions) -> Generation:
        return self.generate_batch([messages], options)[0]

    def generate_batch(self, chats: list[Messages], options: DecodingOptions) -> list[Generation]:
        prompts = [self._chat_tokens(c) for c in chats]
        results: list[Generation] = []
        while len(results) < len(prompts):
            group = self._fitting(prompts[len(results):len(results) + self.max_batch], options)
            with self._lock:
                seqs = self._start(group, options, first_seed=len(results))
                for _ in self._decode(seqs, options):
                    pass
            results += [self._result(s) for s in seqs]
        return results

    def stream(self, messages: Messages, options: DecodingOptions) -> Iterator[str | Generation]:
        prompt = self._chat_tokens(messages)
        with self._lock:  # held while the consumer reads; closing the generator releases it
            (seq,) = self._start([prompt], options)
            pieces = self._decode([seq], options)
            try:
                for _, piece in pieces:
                    yield piece
            finally:
                pieces.close()  # under the lock: records what the cache holds when the reader stopped early
        yield self._result(seq)

    def stream_batch(self, chats: list[Messages], options: DecodingOptions,
                     unwanted: Callable[[int], bool] | None = None) -> Iterator[tuple[int, str | Generation]]:
        """Several chats decoded together, streamed: (index, text piece) as tokens come, then
        (index, Generation) once that chat is done. For serving concurrent requests in one batch;
        a chat for which `unwanted(index)` turns true (its reader left) stops at the next token."""
        prompts = [self._chat_tokens(c) for c in chats]
        done = 0
        while done < len(prompts):
            group = self._fitting(prompts[done:done + self.max_batch], options)
            with self._lock:
                gone = (lambda i, offset=done: unwanted(offset + i)) if unwanted else None
                seqs = self._start(group, options, first_seed=done, unwanted=gone)
                finished = set()
                pieces = self._decode(seqs, options, gone)
                try:
                    for s, piece in pieces:
                        yield done + s.seq_id, piece
                        for t in seqs:
                            if t.finish and t.seq_id not in finished:
                                finished.add(t.seq_id)
                                yield done + t.seq_id, self._result(t)
                finally:
                    pieces.close()  # under the lock, like `stream`
                for t in seqs:
                    if t.seq_id not in finished:
                        yield done + t.seq_id, self._result(t)
            done += len(group)

    def continuous_batch(self):
        """A batch that chats join and leave between decode steps (`ContinuousBatch`), for serving."""
        from botkit.models.llamacpp_continuous import ContinuousBatch

        return ContinuousBatch(self)

    def _fitting(self, prompts: list[list[int]], options: DecodingOptions) -> list[list[int]]:
        """The longest head of `prompts` whose prompts and replies fit the cache together (identical
        prompts and the start they all share take their cells once)."""
        for n in range(len(prompts), 0, -1):
            distinct = [list(p) for p in {tuple(p) for p in prompts[:n]}]
            shared = _common_prefix(distinct) if len(distinct) > 1 else 0
            cells = sum(map(len, distinct)) - (len(distinct) - 1) * shared + n * options.max_new_tokens
            if cells <= self.context_window:
                return prompts[:n]
        return prompts[:1]

    def _result(self, seq: _Sequence) -> Generation:
        record(len(seq.prompt), len(seq.tokens))
        return Generation(seq.scanner.text.strip(), len(seq.prompt), len(seq.tokens), seq.finish or "stop")

    def _start(self, prompts: list[list[int]], options: DecodingOptions, first_seed: int = 0,
               unwanted: Callable[[int], bool] | None = None) -> list[_Sequence]:
        """Read the prompts into the cache: the start all distinct prompts share once (then shared by
        cells), the rest of each distinct prompt in the same decode calls; copies share its cells.
        Once `unwanted` names every sequence, reading stops and they all finish."""
        longest = max(map(len, prompts))
        if longest >= self.context_window:
            raise BotkitError(f"a prompt of {longest} tokens does not fit the context window ({self.context_window})")
        seqs = [_Sequence(i, p, self._sampler(options, p, first_seed + i), StopScanner(options.stop))
                for i, p in enumerate(prompts)]
        owners: dict[tuple, list[_Sequence]] = {}
        for s in seqs:
            owners.setdefault(tuple(s.prompt), []).append(s)
        heads = [group[0] for group in owners.values()]  # heads[0] is sequence 0
        cached = self._reusable(prompts[0])
        # Each prompt keeps at least its last token to read: its logits give the first reply token.
        shared = min(_common_prefix([h.prompt for h in heads]), min(len(h.prompt) for h in heads) - 1)
        if len(heads) > 1 and shared > cached:
            self._read(prompts[0][cached:shared], 0, start_pos=cached)
            cached = shared
        if len(heads) > 1:
            for head in heads[1:]:
                self._llama.llama_memory_seq_cp(self._ctx.memory, 0, head.seq_id, 0, shared)
        todo = [(head, cached if n == 0 else min(shared, cached)) for n, head in enumerate(heads)]
        nobody = (lambda: all(unwanted(s.seq_id) for s in seqs)) if unwanted else None
        for head, row in self._read_together(todo, nobody):
            for s in owners[tuple(head.prompt)]:
                if s is not head:
                    self._llama.llama_memory_seq_cp(self._ctx.memory, head.seq_id, s.seq_id, -1, -1)
                s.pos = len(s.prompt)
                s.first = self._take(s, s.sampler.sample(self._ctx, row), options)
        for s in seqs:
            if not s.pos:  # its prompt was never read: everyone left first
                s.finish = "stop"
        return seqs

    def _read_together(self, todo: list[tuple[_Sequence, int]],
                       nobody: Callable[[], bool] | None = None) -> Iterator[tuple[_Sequence, int]]:
        """Decode each sequence's prompt from its start position, all sequences in the same decode
        calls; yields (sequence, batch row of its last token's logits) right after the call that
        read that token (the next call overwrites the logits). Stops early when `nobody()` (every
        reader left: a long batch of prompts is not read for nobody)."""
        pending = [(head, pos, token) for head, start in todo for pos, token in enumerate(head.prompt) if pos >= start]
        for begin in range(0, len(pending), self._n_batch):
            if nobody and nobody():
                for head, _ in todo:
                    head.finish = head.finish or "stop"
                return
            chunk = pending[begin:begin + self._n_batch]
            self._batch.reset()
            ends = []
            for row, (head, pos, token) in enumerate(chunk):
                last = pos == len(head.prompt) - 1
                self._add(token, pos, head.seq_id, logits=last)
                if last:
                    ends.append((head, row))
            self._ctx.decode(self._batch)
            yield from ends

    def _read(self, tokens: list[int], seq_id: int, start: int = 0, start_pos: int = 0) -> int:
        """Decode tokens[start:] into sequence `seq_id` (the first at position `start_pos` + `start`);
        the batch row of the last token's logits."""
        row = 0
        for begin in range(start, len(tokens), self._n_batch):
            chunk = tokens[begin:begin + self._n_batch]
            self._batch.reset()
            for j, token in enumerate(chunk):
                self._add(token, start_pos + begin + j, seq_id, logits=begin + j == len(tokens) - 1)
            self._ctx.decode(self._batch)
            row = len(chunk) - 1
        return row

    def _reusable(self, prompt: list[int]) -> int:
        """Keep sequence 0's cached prefix shared with `prompt` (at least one token left to read);
        clear everything else."""
        shared, limit = 0, min(len(self._kv_tokens), len(prompt) - 1)
        while shared < limit and self._kv_tokens[shared] == prompt[shared]:
            shared += 1
        memory = self._ctx.memory
        self._llama.llama_memory_seq_rm(memory, 0, shared, -1)
        for seq_id in range(1, self.n_seq_max):
            self._llama.llama_memory_seq_rm(memory, seq_id, -1, -1)
        self._kv_tokens = list(prompt[:shared])
        return shared

    def _add(self, token: int, pos: int, seq_id: int, logits: bool) -> None:
        b = self._batch.batch
        n = b.n_tokens
        b.token[n], b.pos[n], b.n_seq_id[n], b.logits[n] = token, pos, 1, logits
        b.seq_id[n][0] = seq_id
        b.n_tokens = n + 1

    def _decode(self, seqs: list[_Sequence], options: DecodingOptions,
                unwanted: Callable[[int], bool] | None = None) -> Iterator[tuple[_Sequence, str]]:
        """Decode every unfinished sequence one token per step, all in one batch; yields text pieces.
        A sequence `unwanted(seq_id)` names stops where it is."""
        first, whole = seqs[0], True
        try:
            for s in seqs:
                if s.first:
                    yield s, s.first
            while True:
                if unwanted:
                    for s in seqs:
                        if s.finish is None and unwanted(s.seq_id):
                            s.finish = "stop"
                active = [s for s in seqs if s.finish is None]
                if not active:
                    break
                self._batch.reset()
                for s in active:
                    self._add(s.tokens[-1], s.pos, s.seq_id, logits=True)
                    s.pos, s.decoded = s.pos + 1, len(s.tokens)
                self._ctx.decode(self._batch)
                for i, s in enumerate(active):
                    if piece := self._take(s, s.sampler.sample(self._ctx, i), options):
                        yield s, piece
        except GeneratorExit:
            pass  # the reader stopped between decode calls (an answer complete early): the cache is whole
        except BaseException:
            whole = False  # a decode failed part-way: trust nothing in the cache
            raise
        finally:
            # What sequence 0 holds, so the next prompt reuses it (the system prompt and examples, or
            # this whole chat asked again); nothing when its prompt was not read to the end.
            self._kv_tokens = first.prompt + first.tokens[:first.decoded] if first.pos and whole else []

    def _take(self, s: _Sequence, token: int, options: DecodingOptions) -> str:
        """Record a sampled token; returns the text it adds (after stop strings) and sets `finish`."""
        if self._llama.llama_vocab_is_eog(self._vocab, token):
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
        n = self._llama.llama_token_to_piece(self._vocab, token, self._piece_buf, len(self._piece_buf), 0, False)
        return self._piece_buf.raw[:n] if n >= 0 else b""

    def _sampler(self, options: DecodingOptions, prompt: list[int], index: int):
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
            seed = (options.seed + index) & 0xFFFFFFFF if options.seed is not None else self._llama.LLAMA_DEFAULT_SEED
            sampler.add_dist(seed)
        else:  # greedy; llama.cpp has no beam search, so beam decodes greedily here
            sampler.add_greedy()
        if options.repetition_penalty != 1.0:
            for token in prompt:
                sampler.accept(token)
        return sampler

    # -- scoring

    def score(self, messages: Messages, continuations: list[str]) -> list[float]:
        """log P(continuation | chat): one pass over the unshared end of the prompt, then each
        multi-token continuation as its own sequence on a copy of the prompt's cache."""
        prompt = self._chat_tokens(messages)
        conts = [self._tokenize(c, special=False) for c in continuations]
        record(len(prompt))
        with self._lock:
            last = self._read(prompt, 0, self._reusable(prompt))
            self._kv_tokens = list(prompt)
            first = _log_softmax(self._logits(last))
            scores = [float(first[c[0]]) if c else 0.0 for c in conts]
            longer = [(i, c) for i, c in enumerate(conts) if len(c) > 1]
            for offset in range(0, len(longer), self.max_batch - 1):
                group = longer[offset:offset + self.max_batch - 1]
                self._batch.reset()
                rows = []
                for seq_id, (i, c) in enumerate(group, start=1):
                    self._llama.llama_memory_seq_rm(self._ctx.memory, seq_id, -1, -1)
                    self._llama.llama_memory_seq_cp(self._ctx.memory, 0, seq_id, -1, -1)
                    for j, token in enumerate(c[:-1]):
                        rows.append((i, c[j + 1], self._batch.batch.n_tokens))
                        self._add(token, len(prompt) + j, seq_id, logits=True)
                self._ctx.decode(self._batch)
                for i, token, row in rows:
                    scores[i] += float(_log_softmax(self._logits(row))[token])
        return scores

    def _logits(self, index: int) -> np.ndarray:
        pointer = self._llama.llama_get_logits_ith(self._ctx.ctx, index)
        return np.ctypeslib.as_array(pointer, shape=(self._n_vocab,)).astype(np.float64)


def _common_prefix(prompts: list[list[int]]) -> int:
    """How many tokens every one of `prompts` starts with."""
    first, n = prompts[0], min(map(len, prompts))
    for i in range(n):
        if any(p[i] != first[i] for p in prompts[1:]):
            return i
    return n


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())
