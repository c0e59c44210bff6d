"""Is a question whose words are mostly in no document still one a source answers? A customer's paraphrase ("How
much are saddlebags to hire?" where the price list says "panniers") or a question about something the documents
never cover ("Do you hire out roof racks?"): a logistic regression over what the sources say back, fitted offline
on the sample knowledge bases (`python bench/answerability.py`), never at run time."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields

import numpy as np

from botkit.evidence import RESTATED, closest_cosine
from botkit.knowledge.questions import WH_WORDS_AS_TYPED
from botkit.knowledge.terms import asked_words, asking_part, content_words, known

# Fitted by `python bench/answerability.py` on the questions the "most words unknown" gate declines in the sample
# knowledge bases (Kettlebrook, helpdesk, the bike shop: their own questions, each other's, bench/paraphrases);
# the blind sets chose no feature and no threshold. Per signal (a field of `Signals`): mean, scale, coefficient.
FITTED = {"restated": (0.433, 0.0635, 0.4089), "evidence": (0.5296, 0.109, 0.3557),
          "gap": (0.0974, 0.0476, 0.1027), "asks_fact": (0.3404, 0.4739, 0.3243)}
INTERCEPT = -0.1676
# The probability a question needs before it passes as a paraphrase: the lowest (in steps of 0.1) that passed none of
# the samples' 37 out-of-scope questions there (0.7 passed one; 0.8 passes 3 of the 10 answerable ones).
PARAPHRASE_PROBABILITY = 0.8

_ASKS_FACT = re.compile(rf"({WH_WORDS_AS_TYPED})\b", re.IGNORECASE)


@dataclass
class Signals:
    restated: float  # the closest source sentence's cosine to the whole question
    evidence: float  # the best sentence's evidence score (`botkit.evidence.select_evidence`)
    gap: float  # the unknown word that carries most of the question and that the sources come least close to
    asks_fact: float  # 1 for a question asking for a fact ("How much ...?"), 0 for a yes/no one ("Do you sell ...?")

    def probability(self) -> float:
        """The fitted probability that a source answers the question."""
        z = INTERCEPT
        for field in fields(self):
            mean, scale, coef = FITTED[field.name]
            z += coef * (getattr(self, field.name) - mean) / scale
        return 1 / (1 + math.exp(-z))


def signals(question: str, vocabulary: set[str], restated: float, evidence: list, embedder) -> Signals:
    """The signals for `question`, given the knowledge base's `vocabulary` (stems), the closest cosine of the
    evidence found for it as it stands (`restated`, `botkit.evidence.closest_cosine`) and its ranked `evidence` (for
    a follow-up, ranked by what it asks now; not empty)."""
    words = [w for w in asked_words(asking_part(question)) if not known(w, vocabulary)]
    gap = 0.0
    if words:
        # A word carries the question when leaving it out moves the question's meaning ("kayaks" in "Do you rent
        # kayaks?"); how close the sources come to it: its best cosine to a word of the chosen sentences or titles.
        without = [re.sub(rf"\b{re.escape(w)}\b", "", question, flags=re.IGNORECASE) for w in words]
        carries = 1 - embedder.similarity(question, without)
        said = sorted(set().union(*(content_words(f"{e.chunk.title} {e.sentence}") for e in evidence)))
        close = np.max(embedder.encode(words) @ embedder.encode(said).T, axis=1) if said else np.zeros(len(words))
        gap = float(np.max(carries * (1 - close)))
    return Signals(restated, evidence[0].score, gap, float(asks_for_fact(question)))


def asks_for_fact(question: str) -> bool:
    """Does the sentence that asks open with a question word ("How much ...?"), rather than ask yes or no? A full
    stop ends a sentence only before a space: "What does the 2.5 L kettle cost?" is one sentence."""
    asking = re.split(r"(?<=[.!])\s+", question.split("?")[0])[-1].strip() or question
    return bool(_ASKS_FACT.match(asking))


def answerable_anyway(question: str, vocabulary: set[str], closest: list, evidence: list, embedder) -> bool:
    """Does a source answer `question` though most of its words are in no document? When a sentence of the evidence
    found for it as it stands (`closest`) says nearly what it asks, or when the fitted decision passes it as a
    customer's paraphrase (see `signals`; `evidence` is what it would be answered from)."""
    restated = closest_cosine(question, closest, embedder)
    if restated >= RESTATED:
        return True
    if not evidence:
        return False
    return signals(question, vocabulary, restated, evidence, embedder).probability() >= PARAPHRASE_PROBABILITY
