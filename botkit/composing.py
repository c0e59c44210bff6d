"""Composed answers: a question in two parts ("How much is X and how long is the warranty?") is answered
part by part, each part from its own source sentence with its own citation."""

from __future__ import annotations

import re
from collections.abc import Callable

from botkit.evidence import Evidence
from botkit.grounding import quote_answer
from botkit.knowledge.questions import AUXILIARIES, WH_WORDS_AS_TYPED
from botkit.knowledge.store import Chunk

_QUESTION_WORD = rf"(?:{WH_WORDS_AS_TYPED}|{AUXILIARIES})"
# Where a second question starts: after a question mark, or at ", and <question word>".
_SECOND_PART = re.compile(rf"(?<=\?)\s+(?=\S)|,?\s+and\s+(?={_QUESTION_WORD}\b)", re.I)
# A part that asks: it ends in "?", names a wh- word anywhere ("on the 3 year finance whats the rate") or opens with
# an auxiliary ("is there a minimum order"). Anything else is what the customer tells ("I work till 6", "the app
# keeps crashing"): context for the question beside it, not a part to answer on its own.
_ASKS = re.compile(rf"\?\s*$|\b{WH_WORDS_AS_TYPED}\b|"
                   rf"^(?:(?:and|also|plus|so|but|oh|ok|okay)[,\s]+)?{_QUESTION_WORD}\b", re.I)
_NAME = re.compile(r"(?<!^)\b[A-Z][a-zA-Z]+(?:\s+\d[\w.]*)?|\b[A-Z]*\d[\w.-]*")


def question_parts(message: str) -> list[str]:
    """The questions `message` asks: one, or each part of a two-part question (each part long enough
    to be a question of its own: three words or more). What the customer tells beside a question ("Can I get
    in at 2am? I work nights") is not a part: then the message is one question, read whole."""
    parts = [p.strip(" ,") for p in _SECOND_PART.split(message.strip()) if p.strip(" ,")]
    parts = [p for p in parts if _ASKS.search(p)]
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return [message.strip()]
    return parts


def part_queries(parts: list[str]) -> list[str]:
    """What to retrieve for each part: a later part that names nothing of its own ("and how long is
    the warranty?") borrows the names of the first ("How much is the Zephyr 3000")."""
    names = " ".join(_NAME.findall(parts[0]))
    return [part if i == 0 or _NAME.search(part) or not names else f"{part} ({names})"
            for i, part in enumerate(parts)]


def compose(parts: list[str], evidence_for: Callable[[str], list[Evidence]], allowed: str = ""):
    """Answer each part with its best source sentence and its own citation (a sentence two parts share
    is said once). Returns the text ("" when no part is answered), the cited (n, chunk) pairs and the
    parts no source answers."""
    answered = [(part, evidence_for(query)) for part, query in zip(parts, part_queries(parts))]
    numbering: dict[str, int] = {}
    chunks: dict[int, Chunk] = {}
    said: list[str] = []
    for question, evidence in answered:
        if not evidence:
            continue
        quote = quote_answer(evidence, lambda chunk: numbering.setdefault(chunk.id, len(numbering) + 1),
                             question, allowed, max_sentences=1)
        if quote not in said:
            said.append(quote)
    for _, evidence in answered:
        for e in evidence:
            if e.chunk.id in numbering:
                chunks[numbering[e.chunk.id]] = e.chunk
    text = " ".join(said)
    cited = sorted((n, c) for n, c in chunks.items() if f"[{n}]" in text)
    return text, cited, [part for part, evidence in answered if not evidence]
