"""Sizes and weights: the dimension a question asks for ("How wide is the Ashby Grand?", "what's the weight limit")
and whether a text states it. A sofa's row that gives its width and depth does not say how heavy or how thick it
is, however close it reads to the question: then the answer is the don't-know line, not the width.

"How big" and "how high" are left alone: they ask for a capacity, a file size or an amount as often as for a
length ("how big is the deposit", "how high is the excess")."""

from __future__ import annotations

import re

from botkit.knowledge.terms import MEASURES, asking_part, stem, terms

# The words a question asks for a dimension with; `botkit.knowledge.terms.MEASURES` names the dimension by the
# adjective ("width" -> "wide", "tall" -> "high"), so a text's terms show which dimension it states.
_ASKS = re.compile(r"\bhow (wide|deep|tall|heavy|thick)\b|\b(width|depth|height|weight|weighs?|thickness)\b", re.I)
# A question asking for a size of any kind, and a figure with a unit of length, weight or volume: a cue for ranking.
ASKS_SIZE = re.compile(r"\bhow (?:wide|deep|tall|high|heavy|thick|big|large)\b|\b(?:dimensions?|measurements?|width|"
                       r"depth|height|weight|thickness)\b", re.I)
_LENGTH_UNIT = r"mm|cm|m|metres?|meters?|in|inch(?:es)?|ft|feet|foot"
_WEIGHT_UNIT = r"kg|kgs|kilos?|kilograms?|g|grams?|lbs?|pounds?|tonnes?|stone"
_INCHES = r"\d\s?[\"″]"
SIZE = re.compile(rf"\d\s?(?:{_LENGTH_UNIT}|{_WEIGHT_UNIT}|litres?|liters?|l|ml)\b|{_INCHES}|\d\s?[x×]\s?\d", re.I)
_LENGTH = re.compile(rf"\d\s?(?:{_LENGTH_UNIT})\b|{_INCHES}", re.I)
_WEIGHT = re.compile(rf"\d\s?(?:{_WEIGHT_UNIT})\b", re.I)
# Words that give every length at once ("Dimensions: 200 x 90 x 85 cm", "it measures ...").
_ALL_LENGTHS = {stem(w) for w in ("dimensions", "measures", "measurements", "size")}


def dimension_asked(question: str) -> str:
    """The dimension the asking part of `question` asks for ("wide", "deep", "high", "heavy", "thick"), or ""."""
    match = _ASKS.search(asking_part(question))
    if not match:
        return ""
    word = (match.group(1) or match.group(2)).lower()
    return MEASURES.get(word, word)


def states(dimension: str, text: str) -> bool:
    """Does `text` give a measure of `dimension`: a weight ("6.8 pounds", "Weight: 45 kg"), or a length labelled as
    that dimension or as the dimensions ("Width: 238 cm", "8 inches tall", "Dimensions: 200 x 90 cm")?"""
    said = terms(text)
    if dimension == "heavy":
        return bool(_WEIGHT.search(text)) or (stem("heavy") in said and bool(re.search(r"\d", text)))
    return bool(_LENGTH.search(text)) and bool(({stem(dimension)} | _ALL_LENGTHS) & said)


def unmeasured(question: str, texts: list[str]) -> str:
    """The dimension `question` asks for when none of `texts` states it ("heavy" for "How heavy is the Linden
    corner sofa?" of a row giving its width and depth), else ""."""
    dimension = dimension_asked(question)
    return dimension if dimension and not any(states(dimension, text) for text in texts) else ""
