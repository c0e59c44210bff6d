"""Pack a document's sections into chunks measured in embedding-model tokens (MiniLM reads 256 at most):
a chunk holds whole units of one section, one unit per line; only a unit longer than a chunk is cut, and
then between sentences."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from botkit.knowledge.sections import Section

# A sentence ends at . ! ? followed by a capital or a figure, but not after "a.m." / "e.g." style abbreviations.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![a-z]\.[a-z]\.)\s+(?=[A-Z0-9\"'(\[$£€])")


@dataclass
class TextChunk:
    title: str
    text: str


class SectionChunker:
    def __init__(self, tokenizer, chunk_tokens: int = 160, overlap: int = 32):
        self.tokenizer = tokenizer
        self.chunk_tokens = chunk_tokens
        self.overlap = min(overlap, chunk_tokens // 2)

    def tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def chunks(self, sections: list[Section]) -> list[TextChunk]:
        out = []
        for section in sections:
            units = [u.strip() for u in section.units if u.strip()]
            if len(units) == 1 and units[0].startswith("Q:") and "\nA:" in units[0]:
                out.extend(TextChunk(section.title, text) for text in self._qa_chunks(units[0]))
            else:
                out.extend(TextChunk(section.title, text) for text in self._pack(units))
        return out

    def _qa_chunks(self, pair: str) -> list[str]:
        """A pair stays whole; a long answer is cut between sentences, each part under its question."""
        if self.tokens(pair) <= self.chunk_tokens:
            return [pair]
        question, _, answer = pair.partition("\nA:")
        room = self.chunk_tokens - self.tokens(question) - 2  # "\nA: " is two more tokens
        if room < self.chunk_tokens // 2:  # a question too long to repeat: the pair as two plain units
            return self._pack([question, f"A: {answer.strip()}"])
        return [f"{question}\nA: {part}" for part in self._pack([answer.strip()], room, overlap=0)]

    def _pack(self, units: list[str], size: int | None = None, overlap: int | None = None) -> list[str]:
        size = size or self.chunk_tokens
        overlap = self.overlap if overlap is None else overlap
        pieces = []  # (unit index, text, tokens)
        for i, unit in enumerate(units):
            n = self.tokens(unit)
            if n <= size:
                pieces.append((i, unit, n))
                continue
            for sentence in _SENTENCE_END.split(unit):
                for part in self._cut(sentence, size):
                    pieces.append((i, part, self.tokens(part)))
        chunks, current, used = [], [], 0
        for piece in pieces:
            if current and used + piece[2] > size:
                chunks.append(_render(current))
                # Carry the last pieces (up to `overlap` tokens) over: a chunk's context for its first lines.
                carried, kept = [], 0
                for previous in reversed(current):
                    if kept + previous[2] > overlap or len(carried) + 1 == len(current):
                        break
                    carried.insert(0, previous)
                    kept += previous[2]
                while carried and kept + piece[2] > size:
                    kept -= carried.pop(0)[2]
                current, used = carried, kept
            current.append(piece)
            used += piece[2]
        if current:
            chunks.append(_render(current))
        return chunks

    def _cut(self, sentence: str, size: int) -> list[str]:
        """A sentence too long for a chunk (a run-on, a list without punctuation): cut between words, in
        one tokenizer pass (offsets), so a megabyte without a full stop costs no more than one with."""
        starts = [a for a, _ in self.tokenizer(sentence, add_special_tokens=False,
                                               return_offsets_mapping=True)["offset_mapping"]]
        if len(starts) <= size:
            return [sentence]
        parts, begin, first = [], 0, 0
        while first < len(starts):
            last, end = first + size, len(sentence)
            while last < len(starts):
                space = sentence.rfind(" ", starts[first] + 1, starts[last] + 1)
                end = space if space > starts[first] else starts[last]
                # A word cut in two can take more tokens than its halves did in place: shrink until it fits.
                if self.tokens(sentence[begin:end]) <= size or last - first <= 1:
                    break
                last -= max(1, (last - first) // 8)
            parts.append(sentence[begin:end])
            if end == len(sentence):
                break
            begin, first = end, bisect.bisect_left(starts, end)
        return [p.strip() for p in parts if p.strip()]


def _render(pieces: list[tuple[int, str, int]]) -> str:
    """One line per unit: pieces of one cut unit share its line."""
    lines: list[str] = []
    last = None
    for index, text, _ in pieces:
        if index == last:
            lines[-1] += " " + text
        else:
            lines.append(text)
        last = index
    return "\n".join(lines)
