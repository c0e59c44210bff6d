"""The default model's shipped Q4_1 GGUF against its cached Q8_0 copy, side by side: grounded answers
to the sample brand's questions, alternating per question, in one process.

    python bench/quantization.py [--questions 12] [--threads N] [--json]

Per file: seconds to the first streamed text and to the reply (p50), CPU seconds of the process per
answer (all threads: the figure least disturbed by other work on the machine), and how many replies
are the same on both. Makes a throwaway BOTKIT_HOME with the sample brand ingested.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

from decode import pinned_settings  # bench/ is on sys.path when a bench script runs

from botkit.models.engine_settings import cpu_threads
from botkit.prompting.brand import sample_brand_dir

FILES = ("Q4_1", "Q8_0")


def timed_answer(bot, question: str) -> dict:
    wall, cpu, first = time.perf_counter(), time.process_time(), None
    for item in bot.stream(question):
        if isinstance(item, str) and first is None:
            first = time.perf_counter() - wall
        reply = item
    seconds = time.perf_counter() - wall
    return {"first": first or seconds, "seconds": seconds, "cpu": time.process_time() - cpu, "text": reply.text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="botkit-quant-bench-") as home:
        os.environ["BOTKIT_HOME"] = home
        from botkit.dialogue import Bot
        from botkit.embeddings import Embedder
        from botkit.models.loading import load_engine

        settings = pinned_settings(cpu_threads(args.threads))
        embedder = Embedder()
        bots = {}
        for quant in FILES:
            llamacpp = settings.engines.llamacpp.model_copy(update={"default_quantization": quant})
            s = settings.model_copy(update={"engines": settings.engines.model_copy(update={"llamacpp": llamacpp})})
            bots[quant] = Bot(s, engine=load_engine("default", engine="llamacpp", settings=s), embedder=embedder)
        bots["Q4_1"].knowledge.ingest(sample_brand_dir() / "knowledge")
        lines = (sample_brand_dir() / "eval" / "questions.jsonl").read_text().splitlines()
        questions = [json.loads(line)["question"] for line in lines if line.strip()]
        for bot in bots.values():
            bot.respond(questions[-1])  # warm-up: lazily built parts (few-shot index, vocabulary)
        runs = {quant: [] for quant in FILES}
        for question in questions[:args.questions]:
            for quant, bot in bots.items():
                runs[quant].append(timed_answer(bot, question))
    result = {"threads": settings.engines.threads, "questions": args.questions, "load_average": os.getloadavg()[0]}
    for quant, rows in runs.items():
        result[quant] = {key + "_p50": round(statistics.median(r[key] for r in rows), 2)
                         for key in ("first", "seconds", "cpu")}
    result["same_replies"] = sum(a["text"] == b["text"] for a, b in zip(runs["Q4_1"], runs["Q8_0"]))
    if args.json:
        print(json.dumps(result))
        return
    for quant in FILES:
        r = result[quant]
        print(f"{quant}: first text p50 {r['first_p50']} s, reply p50 {r['seconds_p50']} s, "
              f"CPU {r['cpu_p50']} s an answer")
    print(f"same replies: {result['same_replies']} of {args.questions} (load average {result['load_average']:.1f})")


if __name__ == "__main__":
    main()
