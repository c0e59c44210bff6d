"""Single-stream decode speed of the default model on each engine, beside naive transformers
`generate()` and raw llama.cpp (a bare decode loop over the same GGUF, same threads), in one run.

    python bench/decode.py [--tokens 128] [--runs 3] [--threads N] [--json]

tok/s counts decode only (completion tokens after the first, over the time after the first token);
ttft_s is the time to the first streamed token. Greedy, no repetition penalty, so every path
decodes the same tokens; `botkit_default_decoding_tok_s` is botkit's default decoding (penalty 1.1).
Runs of botkit's engine and of raw llama.cpp alternate and the best of each is kept, so a machine
shared with other work (a busy core stalls every llama.cpp thread) disturbs the ratio least.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

from botkit.decoding import DecodingOptions
from botkit.models.engine_settings import cpu_threads

CHAT = [{"role": "system", "content": "You are a helpful assistant for Kettlebrook, a maker of kettles."},
        {"role": "user", "content": "Write a long, detailed story about a family who buys their first kettle."}]


def timed_stream(engine, options: DecodingOptions, cold: bool = False) -> tuple[float, float, int]:
    """(seconds to the first piece, decode tokens/s after it, completion tokens). `cold` forgets the
    prompt llama.cpp keeps cached from the previous call, so the whole prompt is read again."""
    if cold and hasattr(engine, "cells"):
        engine.cells.prefix = []
    start = time.perf_counter()
    first = None
    for item in engine.stream(CHAT, options):
        if isinstance(item, str):
            first = first or time.perf_counter()
        else:
            generation = item
    end = time.perf_counter()
    n = generation.completion_tokens
    return first - start, (n - 1) / (end - first), n


def raw_llamacpp(gguf: str, threads: int, tokens: int, prompt: list[int]) -> float:
    """A bare llama.cpp decode loop through the C API: greedy, one token per decode call."""
    import llama_cpp
    from llama_cpp import _internals

    from botkit.models.llamacpp import cpu_has_amx

    model_params = llama_cpp.llama_model_default_params()
    model_params.use_extra_bufts = not cpu_has_amx()  # as botkit's engine: llama.cpp's AMX path crashes here
    model = _internals.LlamaModel(path_model=gguf, params=model_params, verbose=False)
    params = llama_cpp.llama_context_default_params()
    params.n_ctx, params.n_threads, params.n_threads_batch = 4096, threads, threads
    ctx = _internals.LlamaContext(model=model, params=params, verbose=False)
    batch = _internals.LlamaBatch(n_tokens=512, embd=0, n_seq_max=1, verbose=False)
    sampler = _internals.LlamaSampler()
    sampler.add_greedy()
    batch.set_batch(prompt, n_past=0, logits_all=False)
    ctx.decode(batch)
    token = sampler.sample(ctx, -1)
    start, pos = time.perf_counter(), len(prompt)
    for _ in range(tokens - 1):
        batch.set_batch([token], n_past=pos, logits_all=True)
        ctx.decode(batch)
        token = sampler.sample(ctx, -1)
        pos += 1
    return (tokens - 1) / (time.perf_counter() - start)


def hf_naive(tokens: int) -> float:
    """Plain transformers `generate()` on the de-quantized model, as botkit ran before engines."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from botkit.config import load_settings
    from botkit.models.default import default_model_dir

    path = default_model_dir(load_settings().cache_dir)
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path).eval()
    ids = tok.apply_chat_template(CHAT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        start = time.perf_counter()
        out = model.generate(**ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
    return (out.shape[1] - ids["input_ids"].shape[1]) / (time.perf_counter() - start)


def pinned_settings(threads: int):
    """botkit's settings with every engine (and torch in this process) on `threads` CPU threads."""
    import torch

    from botkit.config import load_settings

    torch.set_num_threads(threads)
    settings = load_settings()
    return settings.model_copy(update={"engines": settings.engines.model_copy(update={"threads": threads})})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    threads = cpu_threads(args.threads)
    settings = pinned_settings(threads)
    from botkit.models.loading import llamacpp_installed, load_engine

    plain = DecodingOptions(max_new_tokens=args.tokens, repetition_penalty=1.0)
    result = {"threads": threads, "tokens": args.tokens, "machine": f"{platform.machine()}, {threads} threads",
              "engines": {}}
    names = ["llamacpp", "transformers"] if llamacpp_installed() else ["transformers"]
    for name in names:
        engine = load_engine("default", engine=name, settings=settings)
        timed_stream(engine, plain.merged(max_new_tokens=8))  # warm-up
        runs, raw = [], []
        for _ in range(args.runs):
            runs.append(timed_stream(engine, plain))
            if name == "llamacpp":
                raw.append(raw_llamacpp(str(engine.gguf), threads, runs[-1][2], engine.chat_tokens(CHAT)))
        default_runs = [timed_stream(engine, DecodingOptions(max_new_tokens=args.tokens)) for _ in range(args.runs)]
        result["engines"][name] = {
            "tok_s": round(max(r[1] for r in runs), 1),
            "ttft_s": round(statistics.median(r[0] for r in runs), 3),
            "ttft_cold_s": round(min(timed_stream(engine, plain.merged(max_new_tokens=4), cold=True)[0]
                                     for _ in range(3)), 3),
            "completion_tokens": runs[0][2],
            "default_decoding_tok_s": round(max(r[1] for r in default_runs), 1),
        }
        if raw:
            result["llamacpp_tok_s"] = round(max(raw), 1)
        del engine
    result["hf_naive_tok_s"] = round(max(hf_naive(args.tokens) for _ in range(max(1, args.runs - 1))), 1)
    best = result["engines"][names[0]]
    result.update(botkit_engine=names[0], botkit_tok_s=best["tok_s"], ttft_s=best["ttft_s"],
                  ttft_cold_s=best["ttft_cold_s"], botkit_default_decoding_tok_s=best["default_decoding_tok_s"])
    if "llamacpp_tok_s" in result:
        result["botkit_vs_llamacpp"] = round(result["botkit_tok_s"] / result["llamacpp_tok_s"], 3)
    result["botkit_vs_hf_naive"] = round(result["botkit_tok_s"] / result["hf_naive_tok_s"], 2)
    if args.json:
        print(json.dumps(result))
        return
    for name, r in result["engines"].items():
        print(f"{name:13s} {r['tok_s']:6.1f} tok/s  ttft {r['ttft_s'] * 1000:5.0f} ms  "
              f"(default decoding {r['default_decoding_tok_s']:.1f} tok/s)")
    if "llamacpp_tok_s" in result:
        print(f"raw llama.cpp {result['llamacpp_tok_s']:6.1f} tok/s  -> botkit {result['botkit_vs_llamacpp']:.2f}x")
    print(f"naive HF      {result['hf_naive_tok_s']:6.1f} tok/s  ({threads} threads)")


if __name__ == "__main__":
    main()
