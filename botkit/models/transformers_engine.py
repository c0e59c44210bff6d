"""Generation and scoring with transformers: the engine that is always present (training shares it),
for any model transformers loads, on CPU or CUDA."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator

from botkit.decoding import DecodingOptions
from botkit.models.engine import Generation, Messages, StopScanner, cut_at_stop
from botkit.usage import record


class TransformersEngine:
    """Generation with transformers' `generate()`; chat templates come from the tokenizer."""

    def __init__(self, model, tokenizer, name: str):
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        config = getattr(model, "config", None)
        self.context_window = int(getattr(config, "max_position_embeddings", 2048) or 2048)
        # One generation at a time per model: concurrent callers (app sessions, API) queue here.
        self._lock = threading.Lock()
        self._scored: tuple[list[int], object] | None = None  # the last scored prompt and its KV cache

    @property
    def device(self):
        return next(self.model.parameters()).device

    def _encode(self, chats: list[Messages]):
        texts = [self.render(m) for m in chats]
        self.tokenizer.padding_side = "left"
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        return batch.to(self.device)

    def render(self, messages: Messages) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def count_tokens(self, messages: Messages) -> int:
        return len(self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"])

    def count_text(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _kwargs(self, options: DecodingOptions) -> dict:
        kwargs = options.generate_kwargs()
        kwargs["pad_token_id"] = self.tokenizer.pad_token_id
        if "stop_strings" in kwargs:
            kwargs["tokenizer"] = self.tokenizer
        return kwargs

    def _seed(self, options: DecodingOptions) -> None:
        if options.seed is not None:
            from transformers import set_seed

            set_seed(options.seed)

    def generate_batch(self, chats: list[Messages], options: DecodingOptions) -> list[Generation]:
        import torch

        batch = self._encode(chats)
        with self._lock, torch.inference_mode():
            self._seed(options)
            out = self.model.generate(**batch, **self._kwargs(options))
        width = batch["input_ids"].shape[1]
        results = []
        for row, mask in zip(out, batch["attention_mask"]):
            new = row[width:]
            new = new[new != self.tokenizer.pad_token_id]
            whole = self.tokenizer.decode(new, skip_special_tokens=True)
            text = cut_at_stop(whole, options.stop)
            ran_out = len(new) >= options.max_new_tokens and len(text) == len(whole)
            results.append(Generation(text.strip(), int(mask.sum()), len(new), "length" if ran_out else "stop"))
            record(results[-1].prompt_tokens, results[-1].completion_tokens)
        return results

    def generate(self, messages: Messages, options: DecodingOptions) -> Generation:
        return self.generate_batch([messages], options)[0]

    def stream(self, messages: Messages, options: DecodingOptions) -> Iterator[str | Generation]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        batch = self._encode([messages])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        result = {}
        # Set when the consumer stops early (an HTTP client hung up): generation ends at the next
        # token and frees the lock for the next caller instead of writing to nobody.
        abandoned = threading.Event()

        class Abandoned(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), abandoned.is_set(), dtype=torch.bool, device=input_ids.device)

        def run():
            with self._lock, torch.inference_mode():
                self._seed(options)
                try:
                    result["out"] = self.model.generate(**batch, **self._kwargs(options), streamer=streamer,
                                                        stopping_criteria=StoppingCriteriaList([Abandoned()]))
                except BaseException as exc:  # surface the error in the caller's thread
                    result["error"] = exc
                    streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        scanner = StopScanner(options.stop)
        try:
            for piece in streamer:
                if shown := scanner.feed(piece):
                    yield shown
            if tail := scanner.flush():
                yield tail
        finally:
            # Also when the consumer stops early: a thread left inside torch at exit aborts the process.
            abandoned.set()
            thread.join()
        if "error" in result:
            raise result["error"]
        width = batch["input_ids"].shape[1]
        completion = int(result["out"].shape[1] - width)
        record(width, completion)
        ran_out = completion >= options.max_new_tokens and not scanner.stopped
        yield Generation(scanner.text.strip(), width, completion, "length" if ran_out else "stop")

    def score(self, messages: Messages, continuations: list[str]) -> list[float]:
        """Single-token continuations (label words) take one forward pass over the part of the
        prompt not shared with the previous call: the system prompt and examples that every text
        of a batch shares stay in the key/value cache (a 3-10x saving with few-shot examples)."""
        import torch

        prompt = self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"]
        conts = [self.tokenizer(c, add_special_tokens=False)["input_ids"] for c in continuations]
        record(len(prompt))  # a scoring pass reads the prompt and writes nothing
        with self._lock, torch.inference_mode():
            if all(len(c) == 1 for c in conts):
                logprobs = self._next_token_logprobs(prompt)
                return [float(logprobs[c[0]]) for c in conts]
            return self._sequence_log_likelihoods(prompt, conts)

    def _next_token_logprobs(self, prompt: list[int]):
        import torch

        shared, cache = 0, None
        if self._scored:
            before, kept = self._scored
            while shared < min(len(before), len(prompt) - 1) and before[shared] == prompt[shared]:
                shared += 1
            if shared >= 8:  # below that a copy of the cache costs more than it saves
                cache = copy.deepcopy(kept)
                cache.crop(shared - len(before))
            else:
                shared = 0
        ids = torch.tensor([prompt[shared:]], device=self.device)
        out = self.model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=1)
        self._scored = (prompt, out.cache)
        return out.logits[0, -1].float().log_softmax(-1).cpu()

    def _sequence_log_likelihoods(self, prompt: list[int], conts: list[list[int]]) -> list[float]:
        """Multi-token continuations: one forward pass over prompt + every continuation."""
        import torch

        width = len(prompt) + max(map(len, conts))
        ids = torch.full((len(conts), width), self.tokenizer.pad_token_id)
        for row, cont in enumerate(conts):
            ids[row, :len(prompt) + len(cont)] = torch.tensor(prompt + cont)
        logprobs = self.model(input_ids=ids.to(self.device)).logits.float().log_softmax(-1).cpu()
        return [sum(logprobs[row, len(prompt) + j - 1, t].item() for j, t in enumerate(cont))
                for row, cont in enumerate(conts)]
