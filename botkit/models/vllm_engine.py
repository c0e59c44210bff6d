"""The `vllm` engine (GPU, optional extra `botkit[vllm]`): one vLLM instance per base model, shared
by every model version trained on it, each version's adapter sent as a LoRA request; continuous
batching comes with vLLM. Request building is plain functions, testable without vLLM or a GPU."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.models.engine import Generation, Messages
from botkit.usage import record

_llms: dict[tuple, object] = {}  # (base, settings) -> vllm.LLM, shared by the versions on that base
_loading = threading.Lock()


def sampling_kwargs(options: DecodingOptions, **extra) -> dict:
    """`vllm.SamplingParams` arguments for botkit's decoding options (beam decodes greedily)."""
    kwargs = {"max_tokens": options.max_new_tokens, "repetition_penalty": options.repetition_penalty,
              "stop": list(options.stop), "seed": options.seed}
    if options.strategy == "sample":
        kwargs.update(temperature=options.temperature, top_p=options.top_p, top_k=options.top_k or -1)
    else:
        kwargs["temperature"] = 0.0
    return {**kwargs, **extra}


def lora_kwargs(adapter: str | Path) -> dict:
    """`vllm.lora.request.LoRARequest` arguments: a readable name and an id stable for the adapter's
    path, so one version keeps one slot however often it is loaded."""
    path = Path(adapter).resolve()
    return {"lora_name": path.name, "lora_int_id": zlib.crc32(str(path).encode()) % (2**31 - 1) + 1,
            "lora_path": str(path)}


def llm_kwargs(base: str, config) -> dict:
    """`vllm.LLM` arguments from `engines.vllm` settings; LoRA is always on so versions can share it."""
    kwargs = {"model": base, "enable_lora": True, "max_lora_rank": config.max_lora_rank, "max_loras": config.max_loras,
              "gpu_memory_utilization": config.gpu_memory_utilization, "dtype": config.dtype}
    if config.max_model_len:
        kwargs["max_model_len"] = config.max_model_len
    return kwargs


class VLLMEngine:
    def __init__(self, base: str, adapter: str | None, config):
        try:
            import vllm
            from vllm.lora.request import LoRARequest
        except ImportError:
            raise BotkitError("engine vllm needs vLLM and a GPU: `pip install 'botkit[vllm]'`") from None
        self._vllm = vllm
        key = (base, repr(config))
        with _loading:
            if key not in _llms:
                _llms[key] = vllm.LLM(**llm_kwargs(base, config))
        self.llm = _llms[key]
        self.tokenizer = self.llm.get_tokenizer()
        self.lora = LoRARequest(**lora_kwargs(adapter)) if adapter else None
        from botkit.models.loading import model_label

        self.name = model_label(base) + (f"+{Path(adapter).name}" if adapter else "")
        self.context_window = int(self.llm.llm_engine.model_config.max_model_len)

    def _prompt(self, messages: Messages) -> list[int]:
        return list(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))

    def count_tokens(self, messages: Messages) -> int:
        return len(self._prompt(messages))

    def count_text(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate_batch(self, chats: list[Messages], options: DecodingOptions) -> list[Generation]:
        prompts = [{"prompt_token_ids": self._prompt(c)} for c in chats]
        # One seed per chat: copies of one prompt sample differently, reproducibly.
        params = [self._vllm.SamplingParams(**sampling_kwargs(
            options, seed=None if options.seed is None else options.seed + i)) for i in range(len(chats))]
        outputs = self.llm.generate(prompts, params, lora_request=self.lora, use_tqdm=False)
        results = []
        for prompt, out in zip(prompts, outputs):
            done = out.outputs[0]
            reason = "length" if done.finish_reason == "length" else "stop"
            results.append(Generation(done.text.strip(), len(prompt["prompt_token_ids"]), len(done.token_ids), reason))
            record(results[-1].prompt_tokens, results[-1].completion_tokens)
        return results

    def generate(self, messages: Messages, options: DecodingOptions) -> Generation:
        return self.generate_batch([messages], options)[0]

    def stream(self, messages: Messages, options: DecodingOptions) -> Iterator[str | Generation]:
        """The offline `LLM` API has no token stream: the whole answer arrives as one piece
        (`botkit serve` streams sentence by sentence on top of it)."""
        generation = self.generate(messages, options)
        if generation.text:
            yield generation.text
        yield generation

    def score(self, messages: Messages, continuations: list[str]) -> list[float]:
        """Exact log-likelihoods from vLLM's prompt log-probs over prompt + continuation."""
        prompt = self._prompt(messages)
        conts = [self.tokenizer(c, add_special_tokens=False)["input_ids"] for c in continuations]
        params = self._vllm.SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
        outputs = self.llm.generate([{"prompt_token_ids": prompt + c} for c in conts], params,
                                    lora_request=self.lora, use_tqdm=False)
        record(len(prompt) * len(conts))
        return [sum(out.prompt_logprobs[len(prompt) + j][t].logprob for j, t in enumerate(c))
                for out, c in zip(outputs, conts)]
