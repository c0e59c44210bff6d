"""Grounding that holds with a tiny model: pick the source sentences that answer the question,
then check the generated answer against them and fall back to quoting them when it is unsupported.

The check is deliberately strict about facts (numbers, amounts, names): a fluent answer that adds a
number the sources do not contain is worse than a plain quote. It guards strong models too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from botkit.evidence import Evidence
from botkit.knowledge.terms import STOPWORDS, WORD, bare, content_words, stem

# Where a sentence of a model's draft ends: any whitespace after . ! ? (the draft's next sentence may
# start in lower case), but not after "a.m." / "e.g." style abbreviations.
DRAFT_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![a-z]\.[a-z]\.)\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CITATION = re.compile(r"\[(\d+)\]")
_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "ninety": 90, "hundred": 100, "thousand": 1000,
}
_FILLER = re.compile(r"^\s*(?:the\s+)?answer(?:\s+to\s+(?:your|the|this)\s+question)?\s*(?:is)?\s*[:\-]\s*", re.I)
# Whole sentences a small chat model pads with; they carry no facts.
_PADDING = re.compile(
    r"^(?:i'?m sorry|i apologi[sz]e|sorry|great question|thanks? (?:you )?for|i hope this helps|let me know|"
    r"feel free|please (?:note|let)|as an ai|the answer (?:was|is) not|awesome|great!)", re.I)
_NEGATION = re.compile(r"\b(?:not|never|no|none|nothing|cannot|can't|don't|doesn't|isn't|aren't|won't|without)\b", re.I)


def figures_in(text: str) -> set[float]:
    """The numbers in `text`, digits or words ("seven"), as floats."""
    text = text.lower()
    found = set()
    for match in _NUMBER.findall(text):
        try:
            found.add(float(match.replace(",", "")))
        except ValueError:
            continue
    for word in re.findall(r"[a-z]+", text):
        if word in _NUMBER_WORDS:
            found.add(float(_NUMBER_WORDS[word]))
    return found


def _tokens(text: str) -> list[str]:
    words = re.findall(r"\d+(?:[.,]\d+)*|[a-z]+", text.lower().replace(",", ""))
    return [str(_NUMBER_WORDS[w]) if w in _NUMBER_WORDS else w for w in words]


def _figure(token: str) -> float | str:
    """A figure's value, or the token itself for one that is no number ("3.5.6", a version)."""
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return token


def _number_contexts(text: str, skip: set[float] = frozenset()) -> set[str]:
    """Each figure with its neighbours ("holds 1.7", "1.7 liters"): a figure copied from a source
    but attached to another thing ("open Sunday at 10") loses its neighbours."""
    tokens = _tokens(text)
    found = set()
    for i, token in enumerate(tokens):
        if token[0].isdigit() and _figure(token) not in skip:
            if i > 0:
                found.add(f"{tokens[i - 1]} {token}")
            if i + 1 < len(tokens):
                found.add(f"{token} {tokens[i + 1]}")
    return found


def strip_citations(text: str) -> str:
    """`text` without [n] citations (a model copies them from the prompt, often in the wrong place)."""
    return _CITATION.sub("", text)


def clean_sentence(sentence: str) -> str:
    """One draft sentence without citations and the filler a small model wraps facts in ("The answer
    to your question is: ..."), capitalised; "" for a sentence of pure padding ("I'm sorry for any confusion.")."""
    sentence = " ".join(strip_citations(re.sub(r"\[\d*$", "", sentence)).split())
    sentence = _FILLER.sub("", sentence.strip(" :;-")).strip()
    if not sentence or _PADDING.match(sentence):
        return ""
    return sentence[:1].upper() + sentence[1:]


def clean_answer(text: str, max_sentences: int = 2) -> str:
    """Keep the first sentences of a draft's first paragraph, cleaned, without repeats."""
    kept: list[str] = []
    for sentence in DRAFT_SENTENCE_END.split(" ".join(strip_citations(text.strip().split("\n\n")[0]).split())):
        sentence = clean_sentence(sentence)
        if sentence and sentence.lower() not in {k.lower() for k in kept}:
            kept.append(sentence)
        if len(kept) == max_sentences:
            break
    return " ".join(kept)


@dataclass
class Check:
    supported: bool
    reason: str
    # The answer may still pass once it says more (its next sentence may carry the key figure or
    # the source's negation); a wrong figure or name can never be fixed by adding text.
    incomplete: bool = False


def check_answer(answer: str, question: str, evidence: list[Evidence], embedder, allowed: str = "") -> Check:
    """Is every fact in `answer` backed by `evidence`? `allowed` adds words always fine (brand name)."""
    if not answer.strip():
        return Check(False, "empty answer", incomplete=True)
    if len(answer.split()) > 90:
        return Check(False, "answer too long to verify")
    source_text = " ".join(e.sentence for e in evidence)
    answer_plain = _CITATION.sub("", answer)
    extra = figures_in(answer_plain) - figures_in(source_text) - figures_in(question)
    if extra:
        return Check(False, f"numbers not in the sources: {sorted(extra)}")
    for sentence in re.split(r"(?<=[.!?])\s+", answer_plain):
        figures = figures_in(sentence) - figures_in(question)
        # A sentence's figures must come from one source sentence, not be stitched from several.
        if figures and not any(figures <= figures_in(e.sentence) for e in evidence):
            return Check(False, f"figures {sorted(figures)} are not stated together in any source sentence")
    out_of_context = _number_contexts(answer_plain, figures_in(question)) - _number_contexts(source_text)
    if out_of_context:
        return Check(False, f"figures used in a different context than the sources: {sorted(out_of_context)[:3]}")
    negated, source_negated = bool(_NEGATION.search(answer_plain)), bool(_NEGATION.search(evidence[0].sentence))
    if negated != source_negated:
        return Check(False, "the answer and the source disagree on a negation", incomplete=source_negated)
    key_numbers = figures_in(evidence[0].sentence) - figures_in(question)
    if key_numbers and not (key_numbers & figures_in(answer_plain)):
        return Check(False, "the answer leaves out the source's key figure", incomplete=True)
    known = {stem(w) for w in content_words(f"{source_text} {question} {allowed}")}
    words = content_words(answer_plain)
    novel = [w for w in words if stem(w) not in known]
    if words and len(novel) / len(words) > 0.25:
        return Check(False, f"words not in the sources: {novel[:5]}", incomplete=True)
    # Names must match exactly (a tiny model misspells them: "Zephyre", "Zepher").
    exact = {bare(w) for w in WORD.findall(f"{source_text} {question} {allowed}")}
    names = {w for w in re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]+", answer_plain)}
    names |= {w for w in WORD.findall(answer_plain[:40].split(" ", 1)[0]) if w.lower() not in STOPWORDS}
    unknown_names = [n for n in names if bare(n) not in exact and bare(n).rstrip("s") not in exact]
    if unknown_names:
        return Check(False, f"names not in the sources: {unknown_names[:5]}")
    similarity = float(embedder.similarity(answer_plain, [source_text])[0])
    if similarity < 0.5:
        return Check(False, f"answer drifts from the sources (similarity {similarity:.2f})", incomplete=True)
    return Check(True, "supported")


def cited_numbers(text: str) -> list[int]:
    return [int(n) for n in _CITATION.findall(text)]


def quote_answer(evidence: list[Evidence], number_of) -> str:
    """The fallback: the best source sentences, each with its citation."""
    best = evidence[0]
    picked = [best] + [e for e in evidence[1:2] if e.score >= best.score - 0.03]
    if len(picked) == 2 and number_of(picked[0].chunk) == number_of(picked[1].chunk):
        return f"{picked[0].sentence} {picked[1].sentence} [{number_of(best.chunk)}]"
    return " ".join(f"{e.sentence} [{number_of(e.chunk)}]" for e in picked)
