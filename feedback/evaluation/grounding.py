"""Measure grounded answers on a question set: the share answered with the expected fact and a citation
that contains it, out-of-scope questions declined, each failure kind of issue 11 counted per answer,
and seconds per answer (p50/p95, start-up excluded). Runs on a sample knowledge base or the user's."""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from importlib import resources
from pathlib import Path

from botkit.errors import BotkitError
from botkit.grounding import strip_citations
from botkit.jsonl import read_jsonl
from botkit.knowledge.sentences import split_sentences

# The sample knowledge bases shipped with botkit (folders of botkit.examples with knowledge/ and eval/).
SAMPLE_KBS = ("kettlebrook", "helpdesk")

# Failure kinds, as issue 11 names them; each answer gets every kind that applies to it.
FAILURE_KINDS = {
    "wrong_sentence": "right chunk, wrong sentence (the fact is in a retrieved or cited chunk, not in the answer)",
    "hole": "hole (an empty slot, e.g. 'is . [1]')",
    "markup": "markup debris (**, |, #, [](...), HTML tags)",
    "unsupported_yes_no": "unsupported yes/no (starts with yes or no, the fact is missing)",
    "declined": "right answer declined (answerable, got the don't-know line)",
    "wrong_citation": "wrong citation (the fact is in the answer, in no cited chunk)",
    "glued_follow_up": "glued follow-up (an unrelated second question answered wrong in the conversation)",
    "missed_follow_up": "missed follow-up (a follow-up answered wrong in the conversation)",
    "out_of_scope_answered": "out-of-scope answered (not declined)",
}
DECLINED = {"dont-know", "empty-knowledge-base"}

_MARKUP = re.compile(r"\*\*|\||(?:^|\s)#{1,6}\s|\[[^\]]*\]\([^)]*\)|</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^>]*)?>")
# An empty slot: punctuation after a space ("is . [1]"), empty brackets, or a sentence that stops on a
# word no sentence ends with, right before its citation ("press [1]": the key was dropped).
_HOLE = re.compile(
    r"\s[.,;:?!](?=\s|$|\[)|\(\s*\)|\"\s*\"|"
    # A capital "A" before a citation is a label ("ISOFIX in all groups except A [2]"), not an article.
    r"\b(?:the|(?-i:a)|an|is|are|was|were|of|to|for|at|with|from|by|and|or|press|than|per|into|via|your|our|its|"
    r"their)"
    r"\s*\[\d+\]", re.IGNORECASE)
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
# A model-phrased answer is a copy when this share of its words stand in a source sentence in runs of
# COPIED_RUN words or more: a sentence restated word for word passes the grounding check, but it is not
# the model's phrasing (RL learned exactly that). Shorter runs are the words any phrasing shares.
COPIED_SHARE = 0.8
COPIED_RUN = 3
_WORD = re.compile(r"[a-z0-9]+(?:[.,'-][a-z0-9]+)*")


def sample_kb_dir(name: str) -> Path:
    """A sample knowledge base's folder (brand.yaml, fewshot.yaml, knowledge/, eval/)."""
    if name not in SAMPLE_KBS:
        raise BotkitError(f"unknown sample knowledge base '{name}' (samples: {', '.join(SAMPLE_KBS)}, all)")
    return Path(str(resources.files("botkit.examples"))) / name


def read_question_sets(questions: Path | None, out_of_scope: Path | None = None,
                       kb: str = "kettlebrook") -> tuple[list[dict], list[dict]]:
    """The questions (`question`, `expected` spellings of the fact, optional `source`, `also_expected`,
    `previous`, `kind`) and the out-of-scope questions to ask: the files given, else sample `kb`'s sets
    (its out-of-scope set only when no question file is given either)."""
    eval_dir = sample_kb_dir(kb) / "eval"
    asked = read_jsonl(questions or eval_dir / "questions.jsonl", ("question", "expected"))
    if not asked:
        raise BotkitError(f"{questions} holds no questions: one JSON object a line, e.g. "
                          '{"question": "How long is the warranty?", "expected": ["2 years"]}')
    if out_of_scope or not questions:
        return asked, read_jsonl(out_of_scope or eval_dir / "out_of_scope.jsonl", ("question",))
    return asked, []


_CONTRACTIONS = [(re.compile(p), r) for p, r in (
    (r"\bcan't\b", "cannot"), (r"\bwon't\b", "will not"), (r"\bshan't\b", "shall not"), (r"n't\b", " not"),
    (r"'re\b", " are"), (r"'ve\b", " have"), (r"'ll\b", " will"), (r"\b(it|that|there|what)'s\b", r"\1 is"),
    (r"\s+", " "))]


def _fold(text: str) -> str:
    """Lower case, straight apostrophes, contractions spelled out: "We don't accept cheques" holds the
    expected "do not accept cheques"."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _has(text: str, spellings: list[str]) -> bool:
    text = _fold(text)
    return any(_fold(s) in text for s in spellings)


def copied_share(answer: str, sources: list[str]) -> float:
    """The share of `answer`'s words (citations left out) that each of its sentences takes, in runs of at
    least COPIED_RUN words, from the one sentence of `sources` it shares most with."""
    source_words = [_WORD.findall(_fold(s)) for text in sources for s in split_sentences(text)]
    total = copied = 0
    for sentence in split_sentences(strip_citations(answer)):
        words = _WORD.findall(_fold(sentence))
        total += len(words)
        copied += max((sum(b.size for b in SequenceMatcher(None, words, source, autojunk=False).get_matching_blocks()
                           if b.size >= COPIED_RUN) for source in source_words), default=0)
    return copied / total if total else 0.0


def shape_failures(answer: str) -> list[str]:
    """Failures visible in the answer's text alone: a hole, markup debris."""
    kinds = []
    if _HOLE.search(answer):
        kinds.append("hole")
    if _MARKUP.search(answer):
        kinds.append("markup")
    return kinds


def answer_failures(item: dict, result: dict, retrieved: list[str]) -> list[str]:
    """The failure kinds of one answer to an answerable question (`result` as `score_reply` makes it)."""
    kinds = shape_failures(result["answer"])
    if result["grounding"] in DECLINED:
        kinds.append("declined")
    elif not result["fact"]:
        if any(_has(text, item["expected"]) for text in retrieved + result["cited_texts"]):
            kinds.append("wrong_sentence")
        if _YES_NO.match(result["answer"]):
            kinds.append("unsupported_yes_no")
    elif not result["cited"]:
        kinds.append("wrong_citation")
    if item.get("previous") and not result["correct"]:
        kinds.append("missed_follow_up" if item.get("kind") == "follow-up" else "glued_follow_up")
    return kinds


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (0 with no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 2)


def warm_up(bot) -> None:
    """Load what the first answer would (model, embeddings, knowledge base, router): timings then
    measure answering, not start-up."""
    _ = bot.engine, bot.router
    bot.embedder.encode(["warm up"])
    bot.knowledge.count()


class _Asker:
    """Asks the bot, timing each answer and counting completion tokens."""

    def __init__(self, bot):
        self.bot, self.seconds, self.tokens = bot, [], 0

    def __call__(self, question: str, session_id: str | None = None):
        start = time.perf_counter()
        reply = self.bot.respond(question, session_id)
        self.seconds.append(time.perf_counter() - start)
        self.tokens += reply.usage["completion_tokens"]
        return reply


def score_reply(item: dict, reply) -> dict:
    """One reply to `item` scored: the fact, a citation holding it, how it was shown (grounding; `copied`
    when shown as the model's words but a cited source sentence nearly verbatim)."""
    fact = _has(reply.text, item["expected"])
    # A citation shows its section title with its text ("Error codes › E-204 Device limit reached").
    cited = [c for c in reply.citations if _has(f"{c.title}\n{c.text}", item["expected"])]
    result = {"question": item["question"], "kind": item.get("kind", ""), "answer": reply.text,
              "grounding": reply.grounding, "fact": fact, "cited": bool(cited),
              # Shown as the model's words but (nearly) a cited source sentence verbatim.
              "copied": reply.grounding == "generated"
              and copied_share(reply.text, [c.text for c in reply.citations]) >= COPIED_SHARE,
              "named_source_cited": any(c.source.endswith(item.get("source", "\0")) for c in reply.citations),
              "correct": fact and bool(cited), "draft": reply.draft, "check": reply.check,
              "citations": [{"n": c.n, "source": Path(c.source).name, "text": c.text} for c in reply.citations],
              "cited_texts": [c.text for c in reply.citations]}
    if item.get("also_expected"):
        result["also_fact"] = _has(reply.text, item["also_expected"])
    return result


def evaluate_grounding(bot, questions: list[dict], out_of_scope: list[dict],
                       on_item: Callable[[dict], None] | None = None) -> dict:
    """Ask every question in a fresh session (one with `previous` as the second turn after it) and
    every out-of-scope question, score the replies and count each failure kind. `on_item` gets each
    question's result as soon as it is scored (a progress bar, a log that outlives an interrupted run)."""
    warm_up(bot)
    ask, results, abstained = _Asker(bot), [], []
    for item in questions:
        session = ask(item["previous"]).session_id if item.get("previous") else None
        result = score_reply(item, ask(item["question"], session))
        query = f"{item['previous']} {item['question']}" if item.get("previous") else item["question"]
        retrieved = [c.text for c in bot.knowledge.search(query, bot.settings.top_k)]
        if item.get("previous"):
            result["previous"] = item["previous"]
        result["failures"] = answer_failures(item, result, retrieved)
        del result["cited_texts"]
        results.append(result)
        if on_item:
            on_item(result)
    for item in out_of_scope:
        reply = ask(item["question"])
        declined = reply.grounding in DECLINED
        failures = shape_failures(reply.text) + (["unsupported_yes_no"] if _YES_NO.match(reply.text) else [])
        abstained.append({"question": item["question"], "kind": "out-of-scope", "answer": reply.text,
                          "grounding": reply.grounding, "dont_know": declined,
                          "failures": failures + ([] if declined else ["out_of_scope_answered"])})
        if on_item:
            on_item(abstained[-1])
    return _summary(bot, results, abstained, ask)


def _summary(bot, results: list[dict], abstained: list[dict], ask: _Asker) -> dict:
    n = len(results) or 1
    total = sum(ask.seconds)
    failures = {kind: sum(kind in r["failures"] for r in results + abstained) for kind in FAILURE_KINDS}
    two_part = [r for r in results if "also_fact" in r]
    second_turn = [r for r in results if "previous" in r]
    return {
        "questions": len(results),
        "right": sum(r["correct"] for r in results),
        "correct_with_citation": round(sum(r["correct"] for r in results) / n, 4),
        "named_source_cited": round(sum(r["named_source_cited"] for r in results) / n, 4),
        "declined": sum(r["grounding"] in DECLINED for r in results),
        "model_phrased": round(sum(r["grounding"] == "generated" and not r["copied"] for r in results) / n, 4),
        "copied": round(sum(r["copied"] for r in results) / n, 4),
        "quoted": round(sum(r["grounding"] == "quoted" for r in results) / n, 4),
        "both_parts": {"asked": len(two_part), "complete": sum(r["fact"] and r["also_fact"] for r in two_part)},
        "second_turn": {"asked": len(second_turn), "right": sum(r["correct"] for r in second_turn)},
        "out_of_scope": len(abstained),
        "out_of_scope_declined": sum(a["dont_know"] for a in abstained),
        "out_of_scope_dont_know": round(sum(a["dont_know"] for a in abstained) / (len(abstained) or 1), 4),
        "failures": failures,
        "unexplained_misses": sum(not r["correct"] and not r["failures"] for r in results),
        "answers_timed": len(ask.seconds),
        "seconds_p50": _percentile(ask.seconds, 0.5),
        "seconds_p95": _percentile(ask.seconds, 0.95),
        "seconds_per_answer": round(total / len(ask.seconds), 2) if ask.seconds else 0.0,
        "completion_tokens_per_second": round(ask.tokens / total, 2) if total else 0.0,
        "model": bot.engine.name,
        "details": results + abstained,
    }


def evaluate_samples(names: list[str], settings, on_item: Callable[[dict], None] | None = None,
                     engine=None, embedder=None) -> dict[str, dict]:
    """Each sample knowledge base in `names`, ingested into a throwaway home (with its brand and
    few-shot examples, the rest of `settings` kept) and evaluated on its own question sets; the model
    and embeddings load once for all."""
    from botkit.dialogue import Bot

    reports = {}
    for name in names:
        folder = sample_kb_dir(name)
        questions, out_of_scope = read_question_sets(None, kb=name)
        # Chroma keeps its files open until the process ends: leftovers of the throwaway home are fine.
        with tempfile.TemporaryDirectory(prefix=f"botkit-eval-{name}-", ignore_cleanup_errors=True) as home:
            bot = Bot(settings.model_copy(update={"home": Path(home), "brand": folder / "brand.yaml",
                                                   "fewshot": folder / "fewshot.yaml"}),
                      engine=engine, embedder=embedder)
            start = time.perf_counter()
            bot.knowledge.ingest(folder / "knowledge")
            ingest_seconds = round(time.perf_counter() - start, 1)
            reports[name] = {"kb": name, "ingest_seconds": ingest_seconds} | evaluate_grounding(
                bot, questions, out_of_scope, on_item)
            engine, embedder = bot.engine, bot.embedder
    return reports
