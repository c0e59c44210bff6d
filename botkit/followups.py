"""Follow-ups detected, not guessed: a message is read together with the previous question only when
it refers back to it ("and if I pay yearly?", "Do I need a card for it?"), never for being short."""

from __future__ import annotations

import re
from collections.abc import Callable

from botkit.knowledge.questions import AUXILIARIES
from botkit.knowledge.terms import terms

# A message that opens by continuing the last one: "and for Lumen Tasks?", "what about on Pro?".
_CONTINUES = re.compile(
    r"^\s*(?:and|also|or|but|plus|then|so|same|what about|how about|what if|and if|"
    r"for|in|on|with|without|at|by|from|via|per)\b", re.I)
# Pronouns that point at something said before ("it", "that one", "them"); "that"/"this" only when they
# end a phrase ("can I return that?") or are the subject after the verb ("how long does that take?"), not as
# "the kettle that I bought"; "there"/"then"/"one" when they end a phrase ("can I park there?", "do I need one?").
_AUXILIARY = rf"(?:{AUXILIARIES}|was|were|had)"
_POINTS_BACK = re.compile(r"\b(?:it|its|it's|they|them|their|theirs|those|these|(?:this|that)(?: one)?(?=\s*[?.!,]|$)|"
                          rf"{_AUXILIARY}\s+(?:this|that)|(?<!\bis\s)(?<!\bare\s)there(?=\s*[?.!,]|$)|"
                          r"(?:then|one)(?=\s*[?.!,]|$)|either|both)\b", re.I)
# A name or figure of the message's own: "what does E-408 mean", "Does the Heron come in red?".
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-zA-Z]+|\b[A-Z]*\d[\w.-]*")


def continues(message: str) -> bool:
    """Does `message` open as a continuation of the previous one ("and ...?", "what about ...?")?"""
    return bool(_CONTINUES.match(message)) and len(message.split()) <= 10


def points_back(message: str) -> bool:
    """Does `message` point back with a pronoun, without naming a subject of its own?"""
    return bool(_POINTS_BACK.search(message)) and not _NAME.search(message.strip())


def follows_up(message: str, previous: str, embedder, finds_evidence: Callable[[str], bool]) -> bool:
    """Read `message` with the `previous` question? Yes when it opens as a continuation or points back
    (a pronoun and no subject of its own: "it" means nothing alone); when it is a fragment ("price?")
    that finds nothing alone but is close to the previous turn. A message with a subject of its own
    ("what's your refund policy" after a question about a kettle) stands alone."""
    if not previous:
        return False
    if continues(message) or points_back(message):
        return True
    return len(message.split()) < 4 and similar_to(message, previous, embedder) and not finds_evidence(message)


def merged_query(message: str, previous: str) -> str:
    """The previous question and the follow-up, read as one question for retrieval and the check."""
    return f"{previous.rstrip()} {message}"


def similar_to(message: str, previous: str, embedder, threshold: float = 0.5) -> bool:
    """Is `message` about what `previous` was about (shared terms, or close in meaning)?"""
    if terms(message) & terms(previous):
        return True
    return float(embedder.similarity(message, [previous])[0]) >= threshold
