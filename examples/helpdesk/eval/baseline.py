"""Measure grounded answers on this sample the way `botkit eval grounding` scores them, but question by
question (one crash is recorded, not fatal), with follow-ups also asked after their `previous` question.

Kept until `botkit eval grounding` reads `previous` and `also_expected`. Usage, with BOTKIT_HOME, BOTKIT_BRAND
and BOTKIT_FEWSHOT set and the knowledge ingested (see ../README.md):

    python examples/helpdesk/eval/baseline.py > results.jsonl
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from botkit.dialogue import Bot
from botkit.jsonl import read_jsonl

HERE = Path(__file__).parent


def has(text: str, spellings: list[str]) -> bool:
    return any(s.lower() in text.lower() for s in spellings)


def ask(bot: Bot, question: str, session_id: str | None = None) -> tuple:
    start = time.perf_counter()
    try:
        reply = bot.respond(question, session_id)
    except Exception as exc:  # a crash is a result to report, not the end of the run
        return None, {"error": f"{type(exc).__name__}: {exc}", "seconds": round(time.perf_counter() - start, 2)}
    return reply, {"seconds": round(time.perf_counter() - start, 2), "answer": reply.text,
                   "grounding": reply.grounding, "draft": reply.draft, "check": reply.check,
                   "citations": [{"source": Path(c.source).name, "text": c.text} for c in reply.citations]}


def score(reply, result: dict, item: dict) -> dict:
    if reply is None:
        return result | {"fact": False, "cited": False, "named_source_cited": False, "correct": False}
    result["fact"] = has(reply.text, item["expected"])
    result["cited"] = any(has(c.text, item["expected"]) for c in reply.citations)
    result["named_source_cited"] = any(c.source.endswith(item["source"]) for c in reply.citations)
    result["correct"] = result["fact"] and result["cited"]
    if "also_expected" in item:
        result["also_fact"] = has(reply.text, item["also_expected"])
    return result


def main() -> None:
    bot, rows = Bot(), []
    for item in read_jsonl(HERE / "questions.jsonl", ("question", "expected", "source")):
        row = {"question": item["question"], "kind": item.get("kind"),
               "alone": score(*ask(bot, item["question"]), item)}
        if item.get("previous"):
            first, _ = ask(bot, item["previous"])
            row["previous"] = item["previous"]
            row["in_conversation"] = score(*ask(bot, item["question"], first and first.session_id), item)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    for item in read_jsonl(HERE / "out_of_scope.jsonl", ("question",)):
        reply, result = ask(bot, item["question"])
        result["dont_know"] = reply is not None and reply.grounding in {"dont-know", "empty-knowledge-base"}
        rows.append({"question": item["question"], "kind": "out-of-scope", "alone": result})
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)

    answerable = [r["alone"] for r in rows if r["kind"] != "out-of-scope"]
    declined = [r["alone"]["dont_know"] for r in rows if r["kind"] == "out-of-scope"]
    follow_ups = [r["in_conversation"]["correct"] for r in rows if "in_conversation" in r]
    print(f"right fact + citation {sum(a['correct'] for a in answerable)}/{len(answerable)}, "
          f"named source cited {sum(a['named_source_cited'] for a in answerable)}/{len(answerable)}, "
          f"follow-ups right in conversation {sum(follow_ups)}/{len(follow_ups)}, "
          f"out of scope declined {sum(declined)}/{len(declined)}, "
          f"crashes {sum('error' in r['alone'] for r in rows)}, "
          f"median seconds {statistics.median(r['alone']['seconds'] for r in rows)}", file=sys.stderr)


if __name__ == "__main__":
    main()
