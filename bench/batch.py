"""Candidate generation batched against one at a time: aggregate tokens/s of sampled replies at
batch 1, 4 and 8 on each engine, for copies of one prompt (best-of-N) and for distinct prompts.

    python bench/batch.py [--tokens 64] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

from decode import pinned_settings  # bench/ is on sys.path when a bench script runs

from botkit.decoding import DecodingOptions
from botkit.models.engine_settings import cpu_threads

SYSTEM = {"role": "system", "content": "You write short, warm marketing copy for Kettlebrook, a maker of kettles."}
BRIEFS = ["Write an email subject line for our spring kettle sale.", "Write a tweet about our new glass kettle.",
          "Write a product tagline for a travel kettle.", "Write an ad headline for our whistling kettle.",
          "Write a subject line announcing free shipping.", "Write a tweet thanking customers for 10 years.",
          "Write a tagline for our gooseneck pour-over kettle.", "Write a headline for our kettle warranty."]


def aggregate(engine, chats, options, batched: bool) -> float:
    start = time.perf_counter()
    if batched:
        out = engine.generate_batch(chats, options)
    else:
        out = [engine.generate(c, options.merged(seed=options.seed + i)) for i, c in enumerate(chats)]
    return sum(g.completion_tokens for g in out) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--engines", default="llamacpp,transformers")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    threads = cpu_threads(args.threads)
    settings = pinned_settings(threads)
    from botkit.models.loading import llamacpp_installed, load_engine

    # min_new_tokens is not an option: a high max and sampling keep replies long enough to compare.
    options = DecodingOptions(strategy="sample", max_new_tokens=args.tokens, seed=7)
    result = {"threads": threads, "tokens": args.tokens, "engines": {}}
    for name in args.engines.split(","):
        if name == "llamacpp" and not llamacpp_installed():
            continue
        engine = load_engine("default", engine=name, settings=settings)
        engine.generate([SYSTEM, {"role": "user", "content": BRIEFS[0]}], options.merged(max_new_tokens=4))
        row = {}
        for kind, chats in (("same_prompt", [[SYSTEM, {"role": "user", "content": BRIEFS[0]}]] * 8),
                            ("distinct_prompts", [[SYSTEM, {"role": "user", "content": b}] for b in BRIEFS])):
            sequential = aggregate(engine, chats, options, batched=False)
            batched = {n: aggregate(engine, chats[:n], options, batched=True) for n in (1, 4, 8)}
            row[kind] = {"sequential_tok_s": round(sequential, 1),
                         "batch_tok_s": {n: round(v, 1) for n, v in batched.items()},
                         "speedup_at_8": round(batched[8] / sequential, 2)}
        result["engines"][name] = row
        del engine
    if args.json:
        print(json.dumps(result))
        return
    for name, row in result["engines"].items():
        for kind, r in row.items():
            b = r["batch_tok_s"]
            print(f"{name:12s} {kind:16s} sequential {r['sequential_tok_s']:6.1f}  batch 1/4/8 "
                  f"{b[1]:6.1f} {b[4]:6.1f} {b[8]:6.1f} tok/s  -> {r['speedup_at_8']:.2f}x at 8")


if __name__ == "__main__":
    main()
