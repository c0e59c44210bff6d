"""Which pairs are worth a person's time: both candidates passed their checks and they differ in
substance, not in whitespace, punctuation or one word. Also the share of "both bad" verdicts per
source of pairs, which says whether a source queues pairs people can rank."""

from __future__ import annotations

import re
from collections.abc import Callable

# Two texts whose word sets overlap this much (Jaccard) say the same thing in other words' order.
SAME_SUBSTANCE = 0.8
SKIP_REASONS = ("identical", "near-identical", "failed checks")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_CITATION = re.compile(r"\[\d+\]")  # "[1]": which source, not what is said


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def differ_in_substance(a: str, b: str) -> bool:
    """True when `a` and `b` differ by more than whitespace, punctuation, case and word order, by
    more than one word, and share less than SAME_SUBSTANCE of their words; a different figure
    ("7-year" against "2-year") is always a difference.

    Word sets rather than embeddings: sentence embeddings of two answers to one question sit close
    whatever their facts (a changed price barely moves them), while a word-set difference is exact,
    needs no model and reads the same on every machine.
    """
    a, b = _CITATION.sub(" ", a), _CITATION.sub(" ", b)
    if set(_FIGURE.findall(a)) != set(_FIGURE.findall(b)):
        return True
    wa, wb = words(a), words(b)
    if len(wa ^ wb) <= 1:
        return False
    return len(wa & wb) / max(len(wa | wb), 1) < SAME_SUBSTANCE


def answer_passes(grounding: str) -> bool:
    """A chat answer passes its checks when it is shown in the model's own checked words (a quote of
    the sources means the model's draft failed the grounding check; a canned reply has no draft)."""
    return grounding == "generated"


def copy_passes(output, text: str) -> bool:
    """A plugin's result passes when it shows something: copy plugins show only variants that passed
    their copy checks (`botkit.tasks.Checked`), so an empty one means none did."""
    return bool(text.strip()) and (not isinstance(output, list) or len(output) > 0)


def skip_reason(a_text: str, a_passed: bool, b_text: str, b_passed: bool) -> str | None:
    """Why the pair (a, b) is not worth ranking (one of SKIP_REASONS), or None to queue it."""
    if a_text.strip() == b_text.strip():
        return "identical"
    if not (a_passed and b_passed):
        return "failed checks"
    if not differ_in_substance(a_text, b_text):
        return "near-identical"
    return None


def best_versus_rest(texts: list[str], failures: Callable[[str], list[str]]) -> list[tuple[int, int]]:
    """The pairs of a best-of-N: (best, other) for every other candidate that differs from the best in
    substance, the best failing the fewest checks, then the shortest. Fewer pairs than every two of N
    (N - 1 instead of N(N - 1)/2), and ones a person can decide: two drafts failing alike are "both
    bad", while the best draft against each other one usually has a winner."""
    if len(texts) < 2:
        return []
    failed = [len(failures(t)) for t in texts]
    best = min(range(len(texts)), key=lambda i: (failed[i], len(texts[i].strip())))
    return [(best, i) for i in range(len(texts)) if i != best and differ_in_substance(texts[best], texts[i])]


def both_bad_by_origin(db) -> list[dict]:
    """Per source of pairs (generate, compare, chat, api, import): judgements, "both bad" verdicts and
    their share, most judged first."""
    rows = db.query(
        "SELECT p.origin, count(*) AS judgements, sum(c.verdict = 'both-bad') AS both_bad"
        " FROM comparisons c JOIN pairs p ON p.id = c.pair_id GROUP BY p.origin ORDER BY judgements DESC, p.origin")
    return [{**r, "both_bad_share": r["both_bad"] / r["judgements"]} for r in rows]
