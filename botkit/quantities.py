"""The quantities a question names ("a 200 sq ft unit", "the 48 month plan", "10 or more items") and whether
the sources state them: a price list that has 100 and 150 sq ft units and no 200 does not answer "How much is
a 200 sq ft unit?", however close its rows read.

Only in questions that ask for something (what / which / how ...): there the figure picks the thing asked
about. In a yes/no question it is a condition the answer judges ("My grinder is four years old, is it still
under warranty?" of "a five-year warranty"), and a time of day ("2am") is one too."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from botkit.knowledge.terms import STOPWORDS, asking_part, stem

_NUMBER_WORDS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())} | {
    "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100}
# "one" is a pronoun more often than a count ("the flexible one").
_COUNT = r"(\d+(?:[.,]\d+)?|" + "|".join(w for w in _NUMBER_WORDS if w != "one") + r")"
_FIGURE = r"(\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
_UNIT = r"[\s-]*([a-z]+)"
_NOT_AFTER = r"(?<![£$€¥₹\d.,:])"  # not a price, a decimal's tail or a clock time's minutes
_ABOVE = r"over|more than|above|at least|minimum(?: of)?|min\.?"
_BELOW = r"under|less than|below|up to|maximum(?: of)?|max\.?|no more than|at most"
_ASKED = re.compile(rf"{_NOT_AFTER}\b{_COUNT}(?:\s+or\s+{_COUNT})?(?:\s+or\s+(?:more|over|above)|\+)?{_UNIT}", re.I)
_RANGE = re.compile(rf"{_NOT_AFTER}\b{_FIGURE}\s*(?:-|–|to)\s*{_FIGURE}{_UNIT}", re.I)
_BOUND = re.compile(rf"\b({_ABOVE}|{_BELOW})\s+{_FIGURE}{_UNIT}", re.I)
_OPEN_ENDED = re.compile(rf"{_NOT_AFTER}\b{_FIGURE}(?:\+|\s+or\s+(?:more|over|above)){_UNIT}", re.I)
_EXACT = re.compile(rf"{_NOT_AFTER}\b{_FIGURE}{_UNIT}", re.I)
_LABELLED = re.compile(rf"\b([A-Za-z]+):\s*{_FIGURE}\b(?![\s-]*[a-z])", re.I)  # a table cell: "Seats: 5"
_ASKS_FOR = re.compile(r"\b(?:what|what's|whats|which|how)\b", re.I)
_CLOCK = {"am", "pm", "h", "hr", "o"}
# "I ordered it 3 weeks ago": time gone by is the customer's circumstance, not the figure that picks what is asked.
_AGO = re.compile(r"(?:\s+[a-z]+)?\s+ago\b", re.I)  # "3 weeks ago", "3 working days ago"


@dataclass(frozen=True)
class Quantity:
    low: float
    high: float
    unit: str  # the stem of the word after the figure ("month" of "36 months")

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


def _value(token: str) -> float:
    token = token.lower().replace(",", "")
    return float(_NUMBER_WORDS[token]) if token in _NUMBER_WORDS else float(token)


def _unit(word: str) -> str:
    word = word.lower()
    return "" if word in STOPWORDS or word in _NUMBER_WORDS or word in _CLOCK else stem(word)


def asked(question: str) -> list[tuple[list[float], str, str]]:
    """The figures, unit stem and unit word the asking part of `question` names, when it asks for something."""
    part = asking_part(question)
    if not _ASKS_FOR.search(part):
        return []
    found = []
    for match in _ASKED.finditer(part):
        unit = _unit(match.group(3))
        if unit and not _AGO.match(part, match.end()):
            found.append(([_value(g) for g in match.group(1, 2) if g], unit, match.group(3)))
    return found


def stated(text: str) -> list[Quantity]:
    """Every quantity `text` states: exact ("36 months"), a range ("7 to 9 items"), a bound ("over 25 kg",
    "16+ years") or a labelled table cell ("Seats: 5")."""
    found = [Quantity(_value(m.group(1)), _value(m.group(2)), _unit(m.group(3))) for m in _RANGE.finditer(text)]
    for m in _BOUND.finditer(text):
        value, unit = _value(m.group(2)), _unit(m.group(3))
        above = re.fullmatch(_ABOVE, m.group(1), re.I)
        found.append(Quantity(value, math.inf, unit) if above else Quantity(-math.inf, value, unit))
    found += [Quantity(_value(m.group(1)), math.inf, _unit(m.group(2))) for m in _OPEN_ENDED.finditer(text)]
    found += [Quantity(_value(m.group(1)), _value(m.group(1)), _unit(m.group(2))) for m in _EXACT.finditer(text)]
    found += [Quantity(_value(m.group(2)), _value(m.group(2)), _unit(m.group(1))) for m in _LABELLED.finditer(text)]
    return [q for q in found if q.unit]


def unstated(question: str, texts: list[str]) -> str:
    """The first quantity `question` asks about ("200 sq", as asked) of a unit `texts` give other figures of and never
    this one, or "" when they state it, or state no figure of its unit at all (then they may answer it in
    other words)."""
    quantities = [q for text in texts for q in stated(text)]
    for values, unit, word in asked(question):
        same_unit = [q for q in quantities if q.unit == unit]
        if same_unit and not any(q.holds(v) for q in same_unit for v in values):
            return f"{' or '.join(f'{v:g}' for v in values)} {word}"
    return ""
