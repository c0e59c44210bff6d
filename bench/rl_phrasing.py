"""Grounded answers before and after `botkit train rl --reward grounding`: answer the run's held-out
questions with the base, the warm start (VERSION-warm, when the run had one) and the version through the
same engine and bot pipeline, and count the
answers shown in the model's own checked words, the right facts (with a citation holding them) and
the quotes, and why each other draft was not shown as the model's words (`why`: an invented fact, a figure in a
new context, ...). The README's "Verifiable rewards" figures come from it.

    BOTKIT_HOME=H BOTKIT_ENGINE=transformers .venv/bin/python bench/rl_phrasing.py --version NAME [--json]

H is the home the version was trained in (the sample brand's documents ingested); the questions are
the run's `heldout.jsonl`. Both models answer with `Bot.answer_batch` (greedy, the first sentence
shown, as chat shows it): the same replies as the streamed `botkit eval grounding`, many times faster here.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path

# Why a draft was not shown in the model's own checked words, from the grounding check's reason: an invented
# figure or name (or a yes/no or negation the sources contradict), a source figure beside other words than in
# the sources (or figures stitched from two sentences), the key figure left out, words or meaning off the
# sources (links, padding, the question restated, drift), an empty slot (a cut sentence).
WHY = [("wrong fact", r"numbers not in|names not in|no source says|disagree on a negation|is about .*, not what"),
       ("figure in a new context", r"different context|not stated together"),
       ("fact left out", r"leaves out|needs the source sentence"),
       ("off the sources", r"words not in|shares nothing|restates the question|drifts|link|too long|system prompt"),
       ("cut", r"empty slot|empty answer")]


def why(result: dict) -> str:
    """One answer's kind: model-phrased, copied (shown, but a source sentence nearly word for word), or why the
    check turned the draft down (`WHY`), "the wrong fact" for a phrased answer that does not say the expected one."""
    if result["grounding"] == "generated":
        return "copied" if result["copied"] else "model-phrased" if result["fact"] else "model-phrased, wrong fact"
    return next((kind for kind, reason in WHY if re.search(reason, result["check"] or "")), "other")


def heldout_questions(settings, version: str) -> list[dict]:
    """The questions the run held out (never trained on), with their expected facts."""
    from botkit.jsonl import read_jsonl

    rows = read_jsonl(Path(settings.home) / "models" / version / "heldout.jsonl")
    return [{"question": r["question"], "expected": r["expected"], "source": r.get("source", "")} for r in rows]


def measure(settings, model: str, questions: list[dict], batch: int) -> dict:
    """One model's figures on `questions`: right fact + citation, model-phrased, copied (a source sentence
    nearly verbatim, shown as the model's words), quoted, each answer."""
    from botkit.dialogue import Bot

    # The grounding eval's own scoring of one reply, so the figures mean what `eval grounding` reports.
    from botkit.feedback.evaluation.grounding import score_reply

    bot = Bot(settings.model_copy(update={"model": model}))
    start, cpu, results = time.perf_counter(), time.process_time(), []
    for i in range(0, len(questions), batch):
        chunk = questions[i:i + batch]
        results += [score_reply(q, r) for q, r in zip(chunk, bot.answer_batch([q["question"] for q in chunk]))]
    return {"model": model, "questions": len(results),
            "right": sum(r["correct"] for r in results),
            "model_phrased": sum(r["grounding"] == "generated" and not r["copied"] for r in results),
            "copied": sum(r["copied"] for r in results),
            "quoted": sum(r["grounding"] == "quoted" for r in results),
            "declined": sum(r["grounding"] in ("dont-know", "empty-knowledge-base") for r in results),
            "minutes": round((time.perf_counter() - start) / 60, 1),
            "cpu_minutes": round((time.process_time() - cpu) / 60, 1),
            "why": dict(Counter(why(r) for r in results).most_common()),
            "answers": [{**{k: r[k] for k in ("question", "answer", "grounding", "correct", "draft", "check")},
                         "why": why(r)} for r in results]}


def main() -> None:
    from botkit.config import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="the RL version (its heldout.jsonl gives the questions)")
    parser.add_argument("--base", default="default", help="the model the version started from")
    parser.add_argument("--model", help="answer with this spec instead of the version (e.g. a run's checkpoint dir)")
    parser.add_argument("--questions", type=Path, help="question lines to ask instead of the version's heldout.jsonl")
    parser.add_argument("--batch", type=int, default=6, help="questions per generate call")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    settings = load_settings()
    from botkit.feedback.registry import ModelRegistry
    from botkit.jsonl import read_jsonl

    questions = heldout_questions(settings, args.version) if not args.questions else read_jsonl(args.questions)
    # A run with a warm start (`--warm_start_epochs`) registered its SFT stage as VERSION-warm: measured
    # between the base and the version, so each stage's share is seen on the same tree in one process.
    # With --warm_start_samples its first round (SFT on the phrasing targets alone) is VERSION-warm1.
    registry, warm = ModelRegistry.open(settings), f"{args.version}-warm"
    stages = [("base", args.base), *[(name, f"{warm}{suffix}") for name, suffix in
                                     (("warm start, targets", "1"), ("warm start", "")) if registry.get(warm + suffix)],
              ("version", args.model or args.version)]
    report = {name: measure(settings, model, questions, args.batch) for name, model in stages}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for name, r in report.items():
        print(f"{name} ({r['model']}): model-phrased {r['model_phrased']}/{r['questions']}, right fact + citation "
              f"{r['right']}/{r['questions']}, copied {r['copied']}, quoted {r['quoted']}, declined {r['declined']} "
              f"({r['minutes']} min, {r['cpu_minutes']} CPU min)")
        print("   " + ", ".join(f"{kind} {n}" for kind, n in r["why"].items()))


if __name__ == "__main__":
    main()
