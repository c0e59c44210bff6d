"""Product names in questions and sources: the names a question asks about ("Zephyr Mini") and the kind of
thing each is ("kettle", read from "Zephyr Mini Travel Kettle"), so a rule stated for the kind is found too."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from botkit.knowledge.terms import STOPWORDS, stem

# A capitalised word or run of them, not a sentence's first word.
NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][A-Za-z0-9]*(?:[- ][A-Z0-9][A-Za-z0-9]*)*")


def compound_names(question: str) -> list[str]:
    """The names of two or more words the question asks about ("Apple Watch", "Zephyr Mini"); none from a
    question in title case, where every word looks like a name."""
    # Title case capitalises the small words too ("Is The ..."); a three-word name ("Aster Mini Juicer") does not.
    words = re.findall(r"[\w'-]+", question)[1:]
    if all(w[:1].isupper() for w in words) or any(w[:1].isupper() and w.lower() in STOPWORDS - {"i"} for w in words):
        return []
    return [m for m in NAME.findall(question.strip()) if " " in m]


def true_cased(question: str, sources: Callable[[], Iterable[str]]) -> str:
    """`question`, typed all in lower case ("is the zephyr mini dishwasher safe?"), with the names of two words or
    more that the `sources()` texts write capitalised ("Zephyr Mini", "Ashby Grand", "Gigabit 900") capitalised as
    they write them: the cues that find the product asked about read capitals. A question with a capital after its
    first letter is the customer's own casing, left as it is, and `sources` is then never called (a search)."""
    if any(c.isupper() for c in question[1:]):
        return question
    names = set()
    for text in sources():
        for found in NAME.findall(text):
            words = found.split(" ")
            while words and words[0].lower() in STOPWORDS:  # "The Zephyr Mini" at a line's start: "Zephyr Mini"
                words.pop(0)
            if len(words) > 1 and not found.isupper():
                names.add(" ".join(words))
    for name in sorted(names, key=len, reverse=True):
        question = re.sub(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", name, question)
    return question


def stem_pairs(text: str) -> set[tuple[str, str]]:
    """Each two words side by side in `text`, stemmed: how a name of two words or more is found in a text
    ("Zephyr Mini" in "the Zephyr Mini Travel Kettle")."""
    said = [stem(w) for w in re.findall(r"[\w'-]+", text.lower())]
    return set(zip(said, said[1:]))


def names_any(names: list[str], text: str) -> bool:
    """Does `text` name one of `names` (two of its words side by side are enough)?"""
    said = stem_pairs(text)
    return any(stem_pairs(name) & said for name in names)


def product_kind(name: str, texts: list[str]) -> str:
    """The kind of thing `name` is, the last word of its fullest spelling in `texts` ("kettle" for "Zephyr
    Mini" from "Zephyr Mini Travel Kettle"); "" when no text spells it out longer."""
    longer = re.compile(rf"\b{re.escape(name)}((?:[ -][A-Z][A-Za-z]+)+)")
    for text in texts:
        match = longer.search(text)
        if match:
            return match.group(1).split()[-1].lower()
    return ""


def kinds(question: str, texts: list[str]) -> dict[str, str]:
    """Each product `question` names that `texts` spell out longer, with its kind ({"Zephyr Mini": "kettle"})."""
    found = {name: product_kind(name, texts) for name in compound_names(question)}
    return {name: kind for name, kind in found.items() if kind}


def as_kind(question: str, named: dict[str, str]) -> str:
    """`question` with each product it names put as its kind (`named`, as `kinds` finds them): "Is the kettle
    dishwasher safe?" for "Is the Zephyr Mini dishwasher safe?", how a rule for every kettle reads it."""
    for name, kind in named.items():
        question = question.replace(name, kind)
    return question
