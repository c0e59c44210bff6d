"""Evidence: the source sentences that answer a question, picked from retrieved chunks and ranked.

The grounding check (`botkit.grounding`) then holds a draft to these sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from botkit.knowledge.store import Chunk
from botkit.knowledge.terms import terms

# A sentence ends at . ! ? followed by a capital, but not after "a.m." / "e.g." style abbreviations.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![a-z]\.[a-z]\.)\s+(?=[A-Z0-9\"'(\[$£€])")


@dataclass
class Evidence:
    sentence: str
    chunk: Chunk
    score: float


def split_sentences(text: str) -> list[str]:
    units = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*•").strip()
        if not line or line.startswith("#"):
            continue
        units.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return units


def _candidates(chunk: Chunk) -> list[tuple[str, str]]:
    """(sentence, text to score it by). A Q&A chunk's answer is scored together with its question."""
    text = chunk.text
    if text.startswith("Q:") and "\nA:" in text:
        question, answer = text.split("\nA:", 1)
        return [(s, f"{question[2:].strip()} {s}") for s in split_sentences(answer)]
    units = split_sentences(text)
    if units and units[0][:1].islower():
        units = units[1:]  # the tail of a sentence cut by the chunk overlap: never quote half a sentence
    return [(s, f"{chunk.title}: {s}") for s in units if len(s.split()) >= 3]


def select_evidence(question: str, chunks: list[Chunk], embedder, min_score: float = 0.3,
                    max_sentences: int = 3, margin: float = 0.12) -> list[Evidence]:
    """The sentences that best answer `question`, best first; empty when none is relevant enough."""
    pairs = [(s, scored_by, c) for c in chunks for s, scored_by in _candidates(c)]
    if not pairs:
        return []
    # Hybrid scoring, as search engines do: a small bonus for sharing the question's own terms
    # ("Zephyr 3000" should beat a similar sentence about another product).
    asked = terms(question)
    lexical = [len(asked & terms(p[1])) / max(1, len(asked)) for p in pairs]
    scores = embedder.similarity(question, [p[1] for p in pairs]) + 0.1 * np.array(lexical)
    ranked = sorted(zip(scores, range(len(pairs))), reverse=True)
    best = float(ranked[0][0])
    if best < min_score:
        return []
    chosen, seen = [], set()
    for score, i in ranked:
        sentence, _, chunk = pairs[i]
        if score < best - margin or len(chosen) == max_sentences:
            break
        if sentence.lower() not in seen:
            seen.add(sentence.lower())
            chosen.append(Evidence(sentence, chunk, round(float(score), 4)))
    return chosen
