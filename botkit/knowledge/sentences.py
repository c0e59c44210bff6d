"""Splitting a chunk's text into sentences: the units evidence is picked from and a long chunk's
relevance is judged by."""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by a capital, but not after "a.m." / "e.g." style abbreviations.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![a-z]\.[a-z]\.)\s+(?=[A-Z0-9\"'(\[$£€])")


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, line by line (a list item or table row is a unit), without headings."""
    units = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*•").strip()
        if not line or line.startswith("#"):
            continue
        units.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return units
