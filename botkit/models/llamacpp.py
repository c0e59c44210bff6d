"""The llama.cpp engine (llama-cpp-python): runs a GGUF as it is, quantized, with a model version's
LoRA adapter converted to llama.cpp's adapter format. Several chats decode together as parallel
sequences of one context; identical prompts are read once, and so is the start every prompt of a
batch shares (the system prompt); a chat that extends the previous one reuses its key/value cache."""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.models.engine import Generation, Messages, StopScanner
from botkit.models.engine_settings import passive_omp_threads
from botkit.models.llamacpp_cells import PREFIX, Cells, Sequence, common_prefix
from botkit.usage import record


class LlamaCppEngine:
    """A GGUF model on llama.cpp; `threads` CPU threads; `context` KV cells a chat (`unified`: shared by a
    batch's chats instead)."""

    def __init__(self, gguf: Path, name: str, threads: int, context: int = 768, max_batch: int = 8,
                 lora: Path | None = None, parked: int = 8, unified: bool = False):
        passive_omp_threads()  # before libgomp loads with llama.cpp
        import llama_cpp
        from llama_cpp import _internals
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # llama.cpp's load chatter
        self._llama = llama_cpp
        self.name, self.gguf, self.threads, self.max_batch = name, Path(gguf), threads, max_batch
        model_params = llama_cpp.llama_model_default_params()
        # llama.cpp's extra weight layouts use AMX where the CPU has it, and its AMX matrix product crashes
        # (SIGSEGV in ggml_backend_amx_mul_mat, llama-cpp-python 0.3.36 built native, Xeon with amx_int8):
        # off there. Elsewhere on x86 they only repack Q4_0, Q4_K and IQ4_NL weights, so they stay on.
        model_params.use_extra_bufts = not cpu_has_amx()
        try:
            self._model = _internals.LlamaModel(path_model=str(gguf), params=model_params, verbose=False)
        except ValueError as exc:
            raise BotkitError(f"llama.cpp cannot load {gguf}: {exc}") from exc
        self.context_window = min(context, self._model.n_ctx_train())
        params = llama_cpp.llama_context_default_params()
        # Serving keeps the shared prompt start in a sequence of its own and up to `parked` finished chats
        # for repeats (`continuous_batch`).
        params.n_seq_max = n_seq_max = min(max_batch + 1 + parked, 256)  # LLAMA_MAX_SEQ: 256
        # Unified: one pool of cells (a lone chat may use all of it), but every row attends over every used
        # cell of the pool (parked chats' too). Else a stream of `context` cells for each sequence, so a row
        # attends over its own chat only; the shared prompt start is then copied into each row's stream.
        # Over streams of a few hundred cells the plain attention (matrix products) costs less CPU than
        # the flash-attention kernel (bench/README.md, 2026-12-01: 0.35 against 0.45 CPU s a request).
        params.kv_unified = unified
        params.n_ctx = self.context_window * (1 if unified else n_seq_max)
        if not unified:
            params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.n_batch = params.n_ubatch = min(512, self.context_window)
        if not unified:  # half the compute buffer (49 MB less); past ~128 tokens a pass reads no faster
            params.n_ubatch = min(256, self.context_window)
        params.n_threads = params.n_threads_batch = threads
        params.no_perf = True
        self._ctx = _internals.LlamaContext(model=self._model, params=params, verbose=False)
        if not unified:  # a multiple of 256 cells
            self.context_window = llama_cpp.llama_n_ctx_seq(self._ctx.ctx)
        # The context as the engine's calls and its running batch share it (`botkit.models.llamacpp_cells`).
        self.cells = Cells(llama_cpp, self._model, self._ctx, params.n_batch, max_batch, n_seq_max,
                           self.context_window, parked=n_seq_max - 1 - max_batch, unified=unified)
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

    def chat_tokens(self, messages: Messages) -> list[int]:
        """The tokens of `messages` rendered with the model's chat template, ready to read."""
        text = self.render(messages)
        bos = self._model.add_bos_token() and not (self._bos_text and text.startswith(self._bos_text))
        return self._tokenize(text, bos=bos)

    def count_tokens(self, messages: Messages) -> int:
        return len(self.chat_tokens(messages))

    def count_text(self, text: str) -> int:
        return len(self._tokenize(text, special=False))

    # -- generation

    def generate(self, messages: Messages, options: DecodingOptions) -> Generation:
        return self.generate_batch([messages], options)[0]

    def generate_batch(self, chats: list[Messages], options: DecodingOptions) -> list[Generation]:
        prompts = [self.chat_tokens(c) for c in chats]
        results: list[Generation] = []
        while len(results) < len(prompts):
            group = self._fitting(prompts[len(results):len(results) + self.max_batch], options)
            with self.cells.lock:
                seqs = self._start(group, options, first_seed=len(results))
                for _ in self._decode(seqs, options):
                    pass
            results += [self.result(s) for s in seqs]
        return results

    def stream(self, messages: Messages, options: DecodingOptions) -> Iterator[str | Generation]:
        prompt = self.chat_tokens(messages)
        with self.cells.lock:  # held while the consumer reads; closing the generator releases it
            (seq,) = self._start([prompt], options)
            pieces = self._decode([seq], options)
            try:
                for _, piece in pieces:
                    yield piece
            finally:
                pieces.close()  # under the lock: records what the cache holds when the reader stopped early
        yield self.result(seq)

    def stream_batch(self, chats: list[Messages], options: DecodingOptions,
                     unwanted: Callable[[int], bool] | None = None) -> Iterator[tuple[int, str | Generation]]:
        """Several chats decoded together, streamed: (index, text piece) as tokens come, then
        (index, Generation) once that chat is done. For serving concurrent requests in one batch;
        a chat for which `unwanted(index)` turns true (its reader left) stops at the next token."""
        prompts = [self.chat_tokens(c) for c in chats]
        done = 0
        while done < len(prompts):
            group = self._fitting(prompts[done:done + self.max_batch], options)
            with self.cells.lock:
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
                                yield done + t.seq_id, self.result(t)
                finally:
                    pieces.close()  # under the lock, like `stream`
                for t in seqs:
                    if t.seq_id not in finished:
                        yield done + t.seq_id, self.result(t)
            done += len(group)

    def continuous_batch(self):
        """A batch that chats join and leave between decode steps (`ContinuousBatch`), for serving."""
        from botkit.models.llamacpp_continuous import ContinuousBatch

        return ContinuousBatch(self)

    def _fitting(self, prompts: list[list[int]], options: DecodingOptions) -> list[list[int]]:
        """The longest head of `prompts` whose prompts and replies fit the cache together (identical
        prompts and the start they all share take their cells once); every one with a stream each."""
        if not self.cells.unified:
            return prompts
        for n in range(len(prompts), 0, -1):
            distinct = [list(p) for p in {tuple(p) for p in prompts[:n]}]
            shared = common_prefix(distinct) if len(distinct) > 1 else 0
            cells = sum(map(len, distinct)) - (len(distinct) - 1) * shared + n * options.max_new_tokens
            if cells <= self.context_window:
                return prompts[:n]
        return prompts[:1]

    def result(self, seq: Sequence) -> Generation:
        record(len(seq.prompt), len(seq.tokens))
        return Generation(seq.scanner.text.strip(), len(seq.prompt), len(seq.tokens), seq.finish or "stop")

    def _start(self, prompts: list[list[int]], options: DecodingOptions, first_seed: int = 0,
               unwanted: Callable[[int], bool] | None = None) -> list[Sequence]:
        """Read the prompts into the cache: the start all distinct prompts share once (then shared by
        cells), the rest of each distinct prompt in the same decode calls; copies share its cells.
        Once `unwanted` names every sequence, reading stops and they all finish."""
        longest = max(map(len, prompts))
        if longest >= self.context_window:
            raise BotkitError(f"a prompt of {longest} tokens does not fit the context window ({self.context_window})")
        seqs = [Sequence(i, p, self.cells.sampler(options, p, first_seed + i), StopScanner(options.stop))
                for i, p in enumerate(prompts)]
        owners: dict[tuple, list[Sequence]] = {}
        for s in seqs:
            owners.setdefault(tuple(s.prompt), []).append(s)
        heads = [group[0] for group in owners.values()]  # heads[0] is sequence 0
        cached = self.cells.keep_prefix(prompts[0])
        # Each prompt keeps at least its last token to read: its logits give the first reply token.
        shared = min(common_prefix([h.prompt for h in heads]), min(len(h.prompt) for h in heads) - 1)
        if len(heads) > 1 and shared > cached:
            self._read(prompts[0][cached:shared], 0, start_pos=cached)
            cached = shared
        if len(heads) > 1:
            for head in heads[1:]:
                self.cells.copy(PREFIX, head.seq_id, shared)
        todo = [(head, cached if n == 0 else min(shared, cached)) for n, head in enumerate(heads)]
        nobody = (lambda: all(unwanted(s.seq_id) for s in seqs)) if unwanted else None
        for head, row in self._read_together(todo, nobody):
            for s in owners[tuple(head.prompt)]:
                if s is not head:
                    self.cells.copy(head.seq_id, s.seq_id)
                s.pos = len(s.prompt)
                s.first = self.cells.sample(s, row, options)
        for s in seqs:
            if not s.pos:  # its prompt was never read: everyone left first
                s.finish = "stop"
        return seqs

    def _read_together(self, todo: list[tuple[Sequence, int]],
                       nobody: Callable[[], bool] | None = None) -> Iterator[tuple[Sequence, int]]:
        """Decode each sequence's prompt from its start position, all sequences in the same decode
        calls; yields (sequence, batch row of its last token's logits) right after the call that
        read that token (the next call overwrites the logits). Stops early when `nobody()` (every
        reader left: a long batch of prompts is not read for nobody)."""
        pending = [(head, pos, token) for head, start in todo for pos, token in enumerate(head.prompt) if pos >= start]
        for begin in range(0, len(pending), self.cells.n_batch):
            if nobody and nobody():
                for head, _ in todo:
                    head.finish = head.finish or "stop"
                return
            chunk = pending[begin:begin + self.cells.n_batch]
            self.cells.reset_batch()
            ends = []
            for row, (head, pos, token) in enumerate(chunk):
                last = pos == len(head.prompt) - 1
                self.cells.add(token, pos, head.seq_id, logits=last)
                if last:
                    ends.append((head, row))
            self.cells.decode()
            yield from ends

    def _read(self, tokens: list[int], seq_id: int, start: int = 0, start_pos: int = 0) -> int:
        """Decode tokens[start:] into sequence `seq_id` (the first at position `start_pos` + `start`);
        the batch row of the last token's logits."""
        row = 0
        for begin in range(start, len(tokens), self.cells.n_batch):
            chunk = tokens[begin:begin + self.cells.n_batch]
            self.cells.reset_batch()
            for j, token in enumerate(chunk):
                self.cells.add(token, start_pos + begin + j, seq_id, logits=begin + j == len(tokens) - 1)
            self.cells.decode()
            row = len(chunk) - 1
        return row

    def _decode(self, seqs: list[Sequence], options: DecodingOptions,
                unwanted: Callable[[int], bool] | None = None) -> Iterator[tuple[Sequence, str]]:
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
                self.cells.reset_batch()
                for s in active:
                    self.cells.add(s.tokens[-1], s.pos, s.seq_id, logits=True)
                    s.pos, s.decoded = s.pos + 1, len(s.tokens)
                self.cells.decode()
                for i, s in enumerate(active):
                    if piece := self.cells.sample(s, i, options):
                        yield s, piece
        except GeneratorExit:
            pass  # the reader stopped between decode calls (an answer complete early): the cache is whole
        except BaseException:
            whole = False  # a decode failed part-way: trust nothing in the cache
            raise
        finally:
            # What sequence 0 holds, so the next prompt reuses it (the system prompt and examples, or
            # this whole chat asked again); nothing when its prompt was not read to the end.
            self.cells.prefix = first.prompt + first.tokens[:first.decoded] if first.pos and whole else []

    # -- scoring

    def score(self, messages: Messages, continuations: list[str]) -> list[float]:
        """log P(continuation | chat): one pass over the unshared end of the prompt, then each
        multi-token continuation as its own sequence on a copy of the prompt's cache."""
        prompt = self.chat_tokens(messages)
        conts = [self._tokenize(c, special=False) for c in continuations]
        record(len(prompt))
        with self.cells.lock:
            last = self._read(prompt, 0, self.cells.keep_prefix(prompt))
            self.cells.prefix = list(prompt)
            first = _log_softmax(self.cells.logits(last))
            scores = [float(first[c[0]]) if c else 0.0 for c in conts]
            longer = [(i, c) for i, c in enumerate(conts) if len(c) > 1]
            for offset in range(0, len(longer), self.max_batch - 1):
                group = longer[offset:offset + self.max_batch - 1]
                self.cells.reset_batch()
                rows = []
                for seq_id, (i, c) in enumerate(group, start=1):
                    self.cells.remove(seq_id)
                    self.cells.copy(PREFIX, seq_id)
                    for j, token in enumerate(c[:-1]):
                        rows.append((i, c[j + 1], self.cells.add(token, len(prompt) + j, seq_id, logits=True)))
                self.cells.decode()
                for i, token, row in rows:
                    scores[i] += float(_log_softmax(self.cells.logits(row))[token])
        return scores


def cpu_has_amx() -> bool:
    """Does this CPU have Intel AMX (Linux: /proc/cpuinfo's flags)?"""
    try:
        with open("/proc/cpuinfo") as info:
            return any(line.startswith("flags") and " amx_int8" in line for line in info)
    except OSError:
        return False


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())
