"""Checks and clean-ups for short copy a small model writes: the first usable line, a cut at a word
boundary within a character limit, and the loops small models fall into."""

from __future__ import annotations

import re

_LABEL = r"^\s*(subject(?: line)?|headline|title|preview(?: text)?|(?:meta )?description)\s*:\s*"


def repeats_itself(text: str) -> bool:
    """A word trigram said twice, or fewer than half the words distinct: small models loop."""
    words = re.findall(r"\w+", text.lower())
    trigrams = list(zip(words, words[1:], words[2:]))
    return len(set(trigrams)) < len(trigrams) or (len(words) >= 4 and len(set(words)) < len(words) / 2)


def trim_to_limit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a word boundary, without a dangling separator."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    cut = cut[: cut.rfind(" ")] if " " in cut[1:] else text[:limit]
    return cut.rstrip(" ,;:-–—&/").strip()


def first_line(text: str) -> str:
    """The first non-empty line, without list markers, labels or wrapping quotes."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line)
    line = re.sub(_LABEL, "", line, flags=re.I)
    return line.strip().strip("\"'“”").strip()
