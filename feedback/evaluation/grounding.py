"""Measure grounding: the share of questions answered with the expected fact *and* a citation that
contains it, and the share of out-of-scope questions answered with "I don't know"."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from botkit.jsonl import read_jsonl
from botkit.prompting.brand import sample_brand_dir


def read_question_sets(questions: Path | None, out_of_scope: Path | None = None) -> tuple[list[dict], list[dict]]:
    """The questions (`question`, `expected` spellings of the fact, optional `source`) and the
    out-of-scope questions to ask: the files given, else the sample brand's sets (its out-of-scope
    set only when no question file is given either)."""
    eval_dir = sample_brand_dir() / "eval"
    asked = read_jsonl(questions or eval_dir / "questions.jsonl", ("question", "expected"))
    if out_of_scope or not questions:
        return asked, read_jsonl(out_of_scope or eval_dir / "out_of_scope.jsonl", ("question",))
    return asked, []


def _has(text: str, spellings: list[str]) -> bool:
    text = text.lower()
    return any(s.lower() in text for s in spellings)


def evaluate_grounding(bot, questions: list[dict], out_of_scope: list[dict],
                       on_item: Callable[[], None] | None = None) -> dict:
    """Ask every question in a fresh session and score the replies."""
    results, completion_tokens, seconds = [], 0, 0.0
    for q in questions:
        start = time.perf_counter()
        reply = bot.respond(q["question"])
        seconds += time.perf_counter() - start
        completion_tokens += reply.usage["completion_tokens"]
        fact = _has(reply.text, q["expected"])
        cited = any(_has(c.text, q["expected"]) for c in reply.citations)
        named = any(c.source.endswith(q.get("source", "\0")) for c in reply.citations)
        results.append({"question": q["question"], "answer": reply.text, "grounding": reply.grounding,
                        "fact": fact, "cited": cited, "named_source_cited": named, "correct": fact and cited})
        if on_item:
            on_item()
    abstained = []
    for q in out_of_scope:
        reply = bot.respond(q["question"])
        abstained.append({"question": q["question"], "answer": reply.text,
                          "dont_know": reply.grounding in {"dont-know", "empty-knowledge-base"}})
        if on_item:
            on_item()
    n = len(results) or 1
    return {
        "questions": len(results),
        "correct_with_citation": round(sum(r["correct"] for r in results) / n, 4),
        "named_source_cited": round(sum(r["named_source_cited"] for r in results) / n, 4),
        "model_phrased": round(sum(r["grounding"] == "generated" for r in results) / n, 4),
        "quoted": round(sum(r["grounding"] == "quoted" for r in results) / n, 4),
        "out_of_scope": len(abstained),
        "out_of_scope_dont_know": round(sum(a["dont_know"] for a in abstained) / (len(abstained) or 1), 4),
        "seconds_per_answer": round(seconds / n, 2),
        "completion_tokens_per_second": round(completion_tokens / seconds, 2) if seconds else 0.0,
        "model": bot.engine.name,
        "details": results + abstained,
    }
