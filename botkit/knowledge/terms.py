"""Content words and crude stems: the vocabulary the knowledge base knows, used to tell an
answerable question from one about things the documents never mention."""

from __future__ import annotations

import re
from functools import cache

from botkit.knowledge.questions import AUXILIARIES, WH_WORDS_AS_TYPED

WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
STOPWORDS = set(
    "a an the and or but if then so of to in on at by for with from as is are was were be been being it its "
    "this that these those there here you your yours we our ours us they their them he she his her i me my "
    "do does did done can could will would shall should may might must have has had not no yes all any each "
    "every some more most very just also only about into out up down over under again than too what which "
    "who whom whose when where why how please thanks thank hi hello answer question source sources according "
    "get got let lets make makes made like well sure happy help glad much many big small really somewhere "
    "fast quick quickly need want know tell anything something thing things now right still ok okay".split()
)
# Contractions as customers type them without the apostrophe ("i know you cant just bin them", "hes 14"; the apostrophe
# forms never count), and "stuff" ("things"): never content words, but only as typed: their stems are other words'
# too ("stuffed", "canter"). Not "ill", "id", "wed", "hell": words of their own.
TYPED_FILLERS = set(
    "cant dont wont doesnt didnt isnt arent wasnt werent havent hasnt hadnt couldnt wouldnt shouldnt youre theyre hes "
    "shes ive youve weve theyve youd theyd youll theyll thats theres heres whos stuff".split()
)


@cache
def english():
    """The English dictionary (pyspellchecker's, in its wheel), loaded once and only when first asked for:
    the copy checks' spelling and the words a heading names no product by."""
    from spellchecker import SpellChecker

    return SpellChecker()


def bare(word: str) -> str:
    """Lower case without a possessive 's or stray quotes/hyphens."""
    return re.sub(r"'s$", "", word.lower().strip("'-"))


# English plurals no suffix rule reaches: "Can my child ..." asks about what a page on "children" says.
IRREGULAR_PLURALS = {
    "children": "child", "teeth": "tooth", "feet": "foot", "men": "man", "women": "woman", "mice": "mouse",
    "geese": "goose", "lives": "life", "knives": "knife", "wives": "wife", "halves": "half", "shelves": "shelf",
    "leaves": "leaf", "loaves": "loaf", "wolves": "wolf", "thieves": "thief", "calves": "calf",
}
# A measure and the adjective it is asked by ("How wide is the Ashby?" / "Width: 238 cm"), which no suffix rule joins.
# Not "length": "how long" asks for a time far more often than for a length.
MEASURES = {
    "width": "wide", "widths": "wide", "breadth": "wide", "depth": "deep", "depths": "deep", "height": "high",
    "heights": "high", "tall": "high", "weight": "heavy", "weights": "heavy", "weigh": "heavy", "weighs": "heavy",
    "thickness": "thick",
}


def stem(word: str) -> str:
    """A crude stem, at most 6 letters; a final "e" goes too, so "cheque" and "cheques", "price" and
    "prices", "fee" and "fees" share one; an irregular plural shares its singular's ("teeth", "tooth"), a
    measure its adjective's ("width", "wide")."""
    return _suffix_stem(IRREGULAR_PLURALS.get(word) or MEASURES.get(word, word))


def _suffix_stem(word: str) -> str:
    return drop_final_e(re.sub(r"(ies|es|s|ed|ing|er|ly)$", "", word)[:6])


def drop_final_e(stem_: str) -> str:
    return stem_[:-1] if len(stem_) > 2 and stem_.endswith("e") else stem_


# What stems stored before irregular plurals and measures were known read as today ("childr" -> "child", "width" ->
# "wid").
STORED_IRREGULAR = {_suffix_stem(word): stem(word) for word in (*IRREGULAR_PLURALS, *MEASURES)}


# Suffixes taken off one after another to tell two forms of one word apart where the one-cut stem cannot:
# "servers" -> "server" but "server" -> "serv"; "oldest" / "older"; "bring" -> "br" but "brings" -> "bring".
_INFLECTION = re.compile(r"(?:ies|es|s|ed|ing|er|est|ly)$")


def inflections(word: str) -> set[str]:
    """The stems `word` may share with another form of it: its stem, and the stems left after one or two
    suffixes come off (never under three letters)."""
    forms, cut = {stem(word)}, word
    for _ in range(2):
        shorter = _INFLECTION.sub("", cut)
        if len(shorter) < 3 or shorter == cut:
            break
        cut = shorter
        forms.add(drop_final_e(cut[:6]))
    return forms


_expanded_last: list = [None, 0, set()]  # the last vocabulary expanded, its size then, its expansion


def _expanded(vocabulary: set[str]) -> set[str]:
    """`vocabulary` (stems) with the stems its entries' other forms would have; the knowledge base hands out one
    set until its files change, so the last one's expansion is kept."""
    if _expanded_last[0] is not vocabulary or _expanded_last[1] != len(vocabulary):
        _expanded_last[:] = [vocabulary, len(vocabulary), vocabulary | {f for v in vocabulary for f in inflections(v)}]
    return _expanded_last[2]


def known(word: str, vocabulary: set[str]) -> bool:
    """Does the knowledge base (stems in `vocabulary`) use `word` in this or another form ("servers" where a
    document says "server", "oldest" where one says "older")?"""
    return stem(word) in vocabulary or bool(inflections(word) & _expanded(vocabulary))


def content_words(text: str) -> set[str]:
    words = set()
    for token in WORD.findall(typed(text)):
        for part in bare(token).split("-"):
            if part and part not in STOPWORDS and part not in TYPED_FILLERS and "'" not in part and len(part) > 2:
                words.add(part)
    return words


def typed(text: str) -> str:
    """`text` with a phone keyboard's curly apostrophe as the plain one ("didn’t" is "didn't"; iOS types it so)."""
    return text.replace("\u2019", "'")


def terms(text: str) -> set[str]:
    """Stems of the content words of `text`."""
    return {stem(w) for w in content_words(text)}


# Words customers use about any business ("What is your returns policy?"): a knowledge base that
# never says "policy" can still answer, so they never count as unknown.
GENERIC = set(
    "policy policies cost costs price prices pricing option options available availability offer offers service "
    "services support customer customers information info details detail process procedure rule rules terms fee fees "
    "charge charges work works working problem problems issue issues".split()
)


# A capitalised word inside a sentence (not its first word): a product, service, place or company.
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][A-Za-z0-9'-]*")


def _adverb(word: str) -> bool:
    """An adverb in -ly ("exactly", "annually") says how, not what the question is about; short words
    in -ly are mostly nouns and verbs ("reply", "apply", "family")."""
    return len(word) >= 7 and word.endswith("ly")


def unknown_names(question: str, vocabulary: set[str]) -> set[str]:
    """The names the question asks about ("Jira", "Slack") that the knowledge base never uses."""
    if question.isupper():  # shouting capitalises every word: no word stands out as a name
        return set()
    named = content_words(" ".join(_NAME.findall(question.strip()))) - GENERIC
    return {w for w in named if not known(w, vocabulary) and stem(w) not in STOPWORDS}


def unknown_share(question: str, vocabulary: set[str]) -> float:
    """The share of the question's content words that the knowledge base never uses; 1.0 when it
    names something the knowledge base never names: no document can answer for a product or place
    it never mentions ("Can Lumen Tasks sync with Jira?"). A name in what the customer says before asking
    ("I live in France. Where are my notes stored?") is context, one unknown word among the others."""
    if unknown_names(asking_part(question), vocabulary):
        return 1.0
    words = asked_words(question)
    if not words:
        return 0.0
    share = sum(not known(w, vocabulary) for w in words) / len(words)
    # Two unknown words side by side ("a referral program") name one thing the documents never mention:
    # as telling as half the words unknown, whatever the rest of the question says.
    return max(share, 0.5) if unknown_term(question, vocabulary) else share


def asked_words(text: str) -> list[str]:
    """`text`'s words that can tell what it is about: no generic business word, no -ly adverb, and none whose
    stem is a stop word ("faster" -> "fast": the vocabulary never holds one, it is not unknown); one per stem."""
    by_stem = {stem(w): w for w in sorted(content_words(text) - GENERIC) if not _adverb(w)}
    return [w for s, w in by_stem.items() if s not in STOPWORDS]


def respelled(text: str, vocabulary: set[str]) -> str:
    """`text` with a customer's typo read as the word the documents use ("is my labrador alowed in the car?",
    "refferal", "phone nmber"): a word of five letters or more that neither the knowledge base nor the dictionary
    knows, whose dictionary correction (the likeliest word one or two edits away) the knowledge base uses."""
    def fix(match: re.Match) -> str:
        word = match.group(0)
        low = word.lower()
        if len(low) < 5 or "'" in low or "-" in low or known(low, vocabulary) or not english().unknown([low]):
            return word
        better = english().correction(low)
        if not better or better == low or not known(better, vocabulary):
            return word
        return better.capitalize() if word[:1].isupper() else better

    return WORD.sub(fix, text)


def unknown_words(question: str, vocabulary: set[str]) -> set[str]:
    """The stems of the words the question asks with (not what the customer says before asking) that the
    knowledge base never uses: "print" in "Can I print a whole notebook?" when no document says it."""
    return {stem(w) for w in asked_words(asking_part(question)) if not known(w, vocabulary)}


def asking_part(message: str) -> str:
    """The sentences of `message` that ask (end in "?"); all of it when none does."""
    asked = [s for s in re.split(r"(?<=[.!?])\s+", message.strip()) if s.endswith("?")]
    return " ".join(asked) or message


# "when"/"where" before a subject opens a circumstance ("when i move out"), not a question ("when do you open").
_SUBJECT = r"(?:i|we|you|they|he|she|it|my|our|your|his|her|their|the|a|an)\b"
_ASKING = re.compile(rf"\b(?!(?:when|where)\s+{_SUBJECT}){WH_WORDS_AS_TYPED}\b", re.I)
_YES_NO = re.compile(rf"\s*(?:{AUXILIARIES}|was|were|shall|may)\b", re.I)
_CONDITION = re.compile(rf",?\s+\b(?:if|because|since|as|while|(?:when|where)(?=\s+{_SUBJECT}))\b.*$", re.I)


def asked_clause(message: str) -> str:
    """What `message` asks for, from its question word on, without the circumstances around it: "what do you charge"
    of "if i leave some junk behind when i move out what do you charge"; "" for a question that asks yes or no
    first."""
    part = asking_part(message)
    match = _ASKING.search(part)
    if not match or _YES_NO.match(part[:match.start()]):  # "Do you sell gift vouchers, and for how much?"
        return ""
    return _CONDITION.sub("", part[match.start():])


def unknown_term(question: str, vocabulary: set[str]) -> str:
    """Two neighbouring content words of `question` that the knowledge base never uses ("referral program"), or ""."""
    words = [bare(w) for w in WORD.findall(typed(question))]
    unknown = [w if w in content_words(w) and w not in GENERIC and not _adverb(w)
               and not known(w, vocabulary) and stem(w) not in STOPWORDS else "" for w in words]
    return next((f"{a} {b}" for a, b in zip(unknown, unknown[1:]) if a and b), "")
