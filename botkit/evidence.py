"""Evidence: the source sentences that answer a question, picked from retrieved chunks and ranked.

The grounding check (`botkit.grounding`) then holds a draft to these sentences.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from botkit.knowledge.names import NAME as _NAME
from botkit.knowledge.names import as_kind, compound_names, kinds, names_any, stem_pairs
from botkit.knowledge.questions import AUXILIARIES, WH_WORDS
from botkit.knowledge.sentences import split_sentences
from botkit.knowledge.store import Chunk
from botkit.knowledge.terms import STOPWORDS, terms
from botkit.measures import ASKS_SIZE, SIZE

_BARE_REPLY = re.compile(r"^(yes|no)[.!]?$", re.IGNORECASE)
# A list's items written as the end of the line that opens it ("bring:" / "photo ID, and" / "proof of address.").
_LIST_ITEM = re.compile(r"^[a-z0-9£$€]")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_ITEM_GOES_ON = re.compile(r"(?:[,;:.!?]|\b(?:and|or))$")  # "photo ID, and": the item says where the next one joins
# At most this many words in a list read whole: a longer one is left as separate lines. A plan's six benefits
# (75 words) are one answer to "what do I get on it?".
LIST_WORDS = 100
# Questions whose answer is a figure: an amount, a duration, a size, a date or a time.
_ASKS_FIGURE = re.compile(r"\b(how (much|many|long|far|fast|quickly|soon|big|large|old|often|late|early)|"
                          r"what (year|time|date|hours?|size)|when|cost|price|charge|fee)\b", re.IGNORECASE)
_FIGURE = re.compile(r"\d")
# A follow-up that is a question of its own ("Do I need a card for it?"), not an ellipsis ("what about Pro?").
_OWN_QUESTION = re.compile(rf"^\s*(?!(?:what|how) about\b)(?:{WH_WORDS}|{AUXILIARIES})\b", re.IGNORECASE)
# Weights of the cues beside the cosine, measured on both sample knowledge bases (bench/retrieval.py --quality).
TERM_WEIGHT, FIGURE_WEIGHT, NAME_WEIGHT = 0.15, 0.1, 0.05
# A code or version the question names ("5.0", "E-204") is the strongest cue there is: embeddings
# hardly tell "4.9" from "5.0", so the sentence beside the one asked about outranks it without this.
CODE_WEIGHT = 0.1
# "What ID ...", "Which roles ...": the word after what/which names the kind of thing the answer is;
# a sentence that names it answers in kind, beside one that only shares the question's other words.
HEAD_WEIGHT = 0.1
_HEAD = re.compile(r"^\s*(?:what|which)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?((?:[\w-]+\s+){1,2}?)"
                   rf"(?=(?:{AUXILIARIES}|was|were|i|we|you|they|it)\b)",
                   re.IGNORECASE)
# Three cues for what a sentence carries beside its words, each a general shape of answer: a table row
# whose label the question names ("free users" -> "Free: ... First reply within: 3 business days"), a list
# for a question after a plural ("What apps can I import from?" -> "From: Evernote, OneNote and Notion"),
# and the kind of fact asked for (a price, a duration, a date, a phone number or address). Measured on the
# four knowledge bases (bench/grounding.sh): together helpdesk 49 -> 51 of 54 quoted right, dental 28 -> 29.
LABEL_WEIGHT, LIST_WEIGHT, TYPE_WEIGHT = 0.1, 0.1, 0.1
# A table row as sections.row_unit writes it: a short label, a colon, then its cells ("Free: Channels: Email").
_ROW_LABEL = re.compile(r"^([^:.!?]{1,40}?):\s")
# "What apps ...", "Which payment methods ...": a plural head asks for every one of them.
_ASKS_LIST = re.compile(r"^\s*(?:what|which)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?(?:[\w-]+\s+)?[\w-]+s\s+"
                        r"(?:do|does|can|could|are|will|would|should|have|has)\b", re.IGNORECASE)
_ITEM_SPLIT = re.compile(r",\s*|;\s*|\s+(?:and|or)\s+")
_ASKS_PRICE = re.compile(r"\b(?:how much (?:is|are|does|do|will|would|to|for)|costs?|costing|prices?|priced|charges?|"
                         r"charged|fees?)\b", re.IGNORECASE)
_PRICE = re.compile(r"[$€£¥₹]\s?\d|\d\s?(?:eur|usd|gbp|euros?|dollars?|pounds?|cents?)\b|\bfree\b", re.IGNORECASE)
_ASKS_DURATION = re.compile(r"\bhow (?:long|soon|quickly|fast|far back|often)\b|\bwithin how\b", re.IGNORECASE)
_COUNT = r"(?:\d+(?:[.,]\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty)"
_DURATION = re.compile(rf"\b{_COUNT}(?:\s*(?:-|to)\s*{_COUNT})?[\s-]*(?:business |working |calendar )?"
                       r"(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b", re.IGNORECASE)
_ASKS_DATE = re.compile(r"\b(?:when|what (?:date|day|year|time)|which (?:date|day|year)|how (?:late|early))\b",
                        re.IGNORECASE)
_DATE = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s|\b(?:mon|tues|wednes|"
                   r"thurs|fri|satur|sun)days?\b|\b(?:19|20)\d\d\b|\b\d{1,2}(?::\d\d)?\s?[ap]\.?m\b|\b\d{1,2}:\d\d\b",
                   re.IGNORECASE)
# "who do I complain to", "who should we talk to": someone to contact ("Who is eligible ...?" asks no such thing).
_ASKS_CONTACT = re.compile(r"\b(?:phone|call|ring|e-?mail|address|contact)\b|"
                           r"\bwho (?:(?:do|should|can|could) (?:i|we) |to )"
                           r"(?:complain|speak|talk|write|ask|get in touch)\b",
                           re.IGNORECASE)
_CONTACT = re.compile(r"\+?\d[\d ()-]{6,}\d|[\w.+-]+@[\w-]+\.[\w.]+")
# "What do I pay ...", "what would we pay": a price, though "pay" alone ("Can I pay by card?") asks no amount.
_ASKS_PAYMENT = re.compile(r"\bwhat (?:do|does|did|would|will|should|must) (?:i|we|you|they|it|one) "
                           r"(?:have to |need to )?(?:pay|spend)\b", re.IGNORECASE)
_ASKS_DISCOUNT = re.compile(r"\b(?:discounts?|reductions?|concessions?|money off|percent off)\b", re.IGNORECASE)
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b|\bhalf (?:price|off)\b|[$€£¥₹]\s?\d+(?:[.,]\d+)?\s+off\b", re.IGNORECASE)
# "Do I have to register ...?", "Is a deposit required?": answered by what a source requires or does not.
_ASKS_REQUIREMENT = re.compile(r"^\s*(?:do|does|will|would) (?:\w+ ){1,2}(?:have|need) to\b|"
                               r"\bmust (?:i|we)\b|\b(?:required|mandatory|compulsory|necessary|obligatory)\b",
                               re.IGNORECASE)
_REQUIREMENT = re.compile(r"\b(?:requir\w*|mandatory|compulsory|necessary|obligatory|optional|must|needs? to|"
                          r"have to|has to|no need)\b", re.IGNORECASE)
# "Where ...": a street address, a postcode, or where something is ("on the first floor", "next to the station").
_ASKS_PLACE = re.compile(r"^\s*(?:and\s+)?where\b|\bwhere (?:is|are|do|does|can|should|would|will)\b", re.IGNORECASE)
_PLACE = re.compile(r"\b\d+[a-z]?,?\s+(?:[A-Z][a-z]+\s+){1,3}(?i:street|st|road|rd|lane|ln|avenue|ave|way|square|sq|"
                    r"place|pl|drive|dr|court|ct|boulevard|blvd|quay|parade|terrace|row|hill|close|crescent|gardens)\b|"
                    r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b|\b[A-Z]{2}\s\d{5}\b|"
                    r"\b(?i:located|floor|entrance|opposite|next door|next to|behind|beside|corner of|car park|"
                    r"parking)\b")
# "When ..." is answered by a date or by a time from now ("within 24 hours", "every six months"). The last four
# pairs (a payment, a discount, a requirement, a place), quotes without the model: the right sentence first for
# Kettlebrook 34 -> 35 of 41, bike shop 33 -> 35, nothing lost on any set; no quote moved.
_ANSWER_TYPES = ((_ASKS_PRICE, _PRICE), (_ASKS_DURATION, _DURATION), (_ASKS_DATE, _DATE), (_ASKS_DATE, _DURATION),
                 (_ASKS_CONTACT, _CONTACT), (_ASKS_PAYMENT, _PRICE), (_ASKS_DISCOUNT, _PERCENT),
                 (_ASKS_REQUIREMENT, _REQUIREMENT), (_ASKS_PLACE, _PLACE), (ASKS_SIZE, SIZE))


# A text marked as no longer current (an archive, the previous policy, a former plan) ranks below the
# current one unless the question asks about the past: near-duplicates ("2026 prices" / "Archived 2025")
# differ in nothing else MiniLM sees. Quotes without the model: dental 29 -> 30 of 40, nothing else moved.
PAST_WEIGHT = 0.1
# A sentence about another named product ("The Heron Gooseneck Kettle is not dishwasher safe") never answers for
# the one asked about ("Is the Zephyr Mini dishwasher safe?"), however alike the two read to MiniLM.
OTHER_WEIGHT = 0.3
# A product line has a few members ("Zephyr 3000", "Zephyr Mini"); a first word starting more names is the brand's.
LINE_SIZE = 3
# A table's list of its rows ("Level: Member, Silver and Gold") never answers what a question asks about one row
# it names ("What perks does a Gold member get?"): it gives way to that row unless the question asks for a list.
ROWS_LISTED_WEIGHT = 0.3
_PAST = re.compile(r"\b(?:archived?|archives|previous|former|legacy|superseded)\b", re.IGNORECASE)


def past_marked(text: str) -> bool:
    """Is `text` marked as no longer current ("Price list › Archived 2025", "the previous policy")?"""
    return bool(_PAST.search(text))


def answer_types(question: str) -> list[re.Pattern]:
    """The kinds of fact `question` asks for (a price, a duration, a date or time, a phone number or address, a
    discount, a requirement, a place, a size or weight), each as the pattern a sentence that answers in kind carries."""
    return [carries for asks, carries in _ANSWER_TYPES if asks.search(question)]


def asks_for_list(question: str) -> bool:
    """Does `question` ask for every one of a kind ("What apps can I import from?")?"""
    return bool(_ASKS_LIST.match(question))


def enumerates(sentence: str) -> bool:
    """Does `sentence` list three things or more ("From: Evernote, Markdown files, OneNote and Notion"):
    three short items in a row, none a labelled cell of a table row ("Price: $5")?"""
    run = 0
    for i, item in enumerate(_ITEM_SPLIT.split(sentence.rstrip(".!?"))):
        item = item.rsplit(": ", 1)[-1] if i == 0 else item  # "comes in three colours: Oat White, ..."
        run = run + 1 if 0 < len(item.split()) <= 4 and ":" not in item else 0
        if run >= 3:
            return True
    return False


def listed_rows(sentence: str, labels: set[str]) -> set[str]:
    """The row labels among `labels` (lower case) that `sentence` lists when it is a table's list of its rows
    ("Level: Member, Silver and Gold": a short label, then mostly row labels, three or more); empty for any other
    sentence ("Phone support is on these plans: Plus, Pro and Team" is a sentence, not a label and its rows)."""
    if not row_label(sentence):
        return set()
    items = {item.strip().lower() for item in _ITEM_SPLIT.split(sentence.split(": ", 1)[-1].rstrip(".!?"))}
    rows = items & labels
    return rows if len(rows) >= 3 and 2 * len(rows) >= len(items) else set()


def row_label(sentence: str) -> str:
    """The label of a table row ("Free" of "Free: Channels: Email; First reply within: 3 business days"), else ""."""
    match = _ROW_LABEL.match(sentence)
    return match.group(1) if match and len(match.group(1).split()) <= 5 else ""


# A code or version the question names ("E-204", "X200", "6.0"): not a measure ("1.7 liters") or a price.
_UNIT = r"\s*(?:%|[a-z]{1,2}\b|lit|lb|pound|inch|hour|day|week|month|year|minute|second|cup|ounce|gram|kilo|mile)"
_CODE = re.compile(rf"(?<![$£€\d.])\b(?:[A-Za-z]+-?\d+[A-Za-z0-9]*|\d+(?:\.\d+)+(?!{_UNIT}))\b(?![.,]?\d)",
                   re.IGNORECASE)
# A sentence that points back at the one before it ("... ask IT to allow that address.", "It includes ...").
_POINTS_BACK = re.compile(r"^(?:it|this|that|these|those|they|then)\b"
                          r"|\b(?:that|those|this|these)\s+[a-z]+\s*[.!?;,]", re.IGNORECASE)


# A two-letter word in capitals ("ID", "EU", "TV") names a thing; content words skip two-letter words.
_ACRONYM = re.compile(r"\b[A-Z]{2}\b")


# A count or a one-letter label in a row's label says which of near-duplicate rows is meant ("Group C",
# "2 guests" for "two guests"): content words drop both, so "Group B: ..." and "Group C: ..." tied on words.
# Only labels: elsewhere a figure the question names ("a cake for 12 people") is not what it asks for.
# "one" is left out: mostly a pronoun ("the one I ordered", "one of").
_NUMBER_WORDS = dict(zip("two three four five six seven eight nine ten eleven twelve".split(), range(2, 13)))
_IDENTIFIER = re.compile(r"(?<![\d.,$£€¥₹])\b(\d+)\b(?![.,]\d)|(?<=[A-Za-z] )(?-i:([A-HJ-Z]))\b(?![-'.])|"
                         rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)


def identifiers(text: str) -> set[str]:
    """The counts and one-letter labels `text` names, as "#2", "#c" ("two guests" and "2 guests" alike)."""
    return {f"#{number or letter.lower() or _NUMBER_WORDS[word.lower()]}"
            for number, letter, word in _IDENTIFIER.findall(text)}


# A day is named by itself, by a range that spans it ("Monday to Friday") or by "weekdays"/"weekends": opening
# hours and timetables say "Weekends: 8am to 8pm" to a customer who asks about Sunday.
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A whole day name in any case, or its abbreviation capitalised ("Sat", not the "sun" of a sun terrace).
_DAY = r"((?i:mon|tues|wednes|thurs|fri|satur|sun)(?i:day)|(?-i:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b\.?)"
_DAY_SPAN = re.compile(rf"\b{_DAY}(?:\s*(?:-|–|to|through|until|till)\s*{_DAY})?|\b((?i:week(?:day|end|-end)))s?\b")


# "How far back can I restore notes on Pro?": of the sentences carrying the kind of fact asked for, the one that
# states it for the plan, site or size the question names ("7 days on Free, 30 days on Plus, 1 year on Pro") in
# one clause, beside one that names it elsewhere ("After 30 days ..., but on Plus, Pro and Team, ...").
BOUND_WEIGHT = 0.1
_CLAUSE = re.compile(r"(?:,(?!\d)|[;(])\s*|\s+(?:and|or|but|while|whereas)\s+")  # "£1,200" is one figure


def states_for(qualifiers: set[str], kinds: list[re.Pattern], sentence: str) -> bool:
    """Does one clause of `sentence` name a qualifier (stems) and carry a fact of one of `kinds`?"""
    return any(qualifiers & terms(clause) and any(kind.search(clause) for kind in kinds)
               for clause in _CLAUSE.split(sentence))


def days(text: str) -> set[str]:
    """The days of the week `text` names, as "@sun": each day of a range and of "weekdays"/"weekends" too."""
    named = set()
    for first, last, group in _DAY_SPAN.findall(text):
        if group:
            named.update(_DAYS[5:] if "end" in group.lower() else _DAYS[:5])
        else:
            start, end = _DAYS.index(first[:3].lower()), _DAYS.index((last or first)[:3].lower())
            named.update(_DAYS[start:end + 1] if start <= end else _DAYS[start:] + _DAYS[:end + 1])
    return {f"@{day}" for day in named}


def _cue_terms(text: str) -> set[str]:
    """The terms a question and a sentence are matched on: content-word stems, short acronyms, days of the week."""
    return terms(text) | {a.lower() for a in _ACRONYM.findall(text) if a.lower() not in STOPWORDS} | days(text)


def answer_kind(question: str) -> set[str]:
    """The terms naming the kind of thing asked for ("What ID do I need?" -> {"id"}): the words between
    what/which and the verb; none when a stop word is among them ("What happens if I ...")."""
    match = _HEAD.match(question)
    if not match or any(w.lower() in STOPWORDS for w in match.group(1).split()):
        return set()
    return _cue_terms(match.group(1))


def codes(text: str) -> set[str]:
    """The codes and versions `text` names, lower case ("E-204", "6.0")."""
    return {c.lower() for c in _CODE.findall(text)}


def _names(question: str) -> set[str]:
    """Stems of the capitalised words inside the question: the product or plan it asks about."""
    return {t for match in _NAME.findall(question.strip()) for t in terms(match)}


def other_of_kind(name: str, texts: list[str]) -> bool:
    """Do `texts` name other things of `name`'s kind ("Apple Notes", "Apple Pencil") but never `name`
    itself ("Apple Watch")? Then it is another product than the ones they cover. Two of its words side
    by side are enough to name it ("Zephyr Mini" names the "Zephyr Mini Kettle")."""
    pairs = stem_pairs(name)
    if any(pairs & stem_pairs(text) for text in texts):
        return False
    siblings = re.compile(rf"\b{re.escape(name.split()[0])}\s+[A-Z0-9]")
    return any(siblings.search(text) for text in texts)


def brand_words(names: set[str]) -> set[str]:
    """The first words (lower case) that start more than LINE_SIZE of `names` (all the names the sources use): a
    brand's ("Larkspur Hub 6", "Larkspur Home app", "Larkspur Broadband", ...), not a product line's."""
    lines: dict[str, set[str]] = {}
    for name in names:
        words = name.lower().split()
        if len(words) > 1:
            lines.setdefault(words[0], set()).add(words[1])
    return {first for first, seconds in lines.items() if len(seconds) > LINE_SIZE}


def sibling(name: str, asked: list[str], brands: set[str]) -> bool:
    """Is `name` another product of an asked name's line ("Zephyr Mini" of "Zephyr 3000"): the same first word, not
    one of `brands` (`brand_words`), without naming the asked one?"""
    words = name.lower().split()
    if len(words) < 2 or words[0] in brands:
        return False
    return any(words[0] == a.lower().split()[0] and not names_any([a], name) for a in asked)


def names_other(asked: list[str], sentence: str, about: str, theirs: set[str] = frozenset()) -> bool:
    """Does `sentence` name a thing of two words or more ("Heron Gooseneck Kettle") while neither it nor
    `about` (its section path, a Q&A row's question) names any of the `asked` names ("Zephyr Mini")? Names
    in `theirs`, used beside the asked ones (the brand, a colour), are not another product."""
    if not asked or not any(" " in name and name not in theirs for name in _NAME.findall(sentence.strip())):
        return False
    return not names_any(asked, f"{about} {sentence}")


@dataclass
class Evidence:
    sentence: str
    chunk: Chunk
    score: float


# Cosine at which a source sentence says nearly what the question asks ("How far in advance can I book?" /
# "You can book up to 90 days ahead." 0.76): no out-of-scope question of the three measured KBs came above 0.55.
RESTATED = 0.7


def closest_cosine(question: str, evidence: list[Evidence], embedder) -> float:
    """The closest source sentence's cosine to `question` (0 without evidence). At RESTATED or more a source says
    nearly what it asks: the question's words that no document uses ("in advance") are the customer's paraphrase,
    not a sign it asks about something else."""
    return float(np.max(embedder.similarity(question, [e.sentence for e in evidence]))) if evidence else 0.0


def antecedent(evidence: Evidence) -> str:
    """The sentence before `evidence`'s in its chunk when `evidence` points back at it ("If your
    company uses a firewall, ask IT to allow that address." needs the sentence naming the address); else ""."""
    if not _POINTS_BACK.search(evidence.sentence):
        return ""
    units = [s for s, _ in candidate_sentences(evidence.chunk)]
    at = units.index(evidence.sentence) if evidence.sentence in units else 0
    return units[at - 1] if at > 0 else ""


def named_heading(evidence: Evidence, question: str) -> str:
    """The section heading that says what the code asked about is ("E-204 Device limit reached") when
    the sentence under it never names the code; else ""."""
    heading = evidence.chunk.title.rsplit("›", 1)[-1].strip()
    asked = codes(question)
    return heading if asked & codes(heading) and not asked & codes(evidence.sentence) else ""


def candidate_sentences(chunk: Chunk) -> list[tuple[str, str]]:
    """(sentence, text to score it by). A Q&A chunk's answer is scored together with its question."""
    text = chunk.text
    if text.startswith("Q:") and "\nA:" in text:
        question, answer = text.split("\nA:", 1)
        return [(s, f"{question[2:].strip()} {s}") for s in _with_bare_replies(split_sentences(answer))]
    # split_sentences keeps a first line in lower case ("macOS: ...") whole; a list is read with its opening line.
    units = _with_items(_with_bare_replies(split_sentences(text)))
    # A sentence that points back ("It is released within 3 working days") is about what the one before it names.
    return [(s, f"{chunk.title}: {units[i - 1]} {s}" if i and _POINTS_BACK.search(s) else f"{chunk.title}: {s}")
            for i, s in enumerate(units) if len(s.split()) >= 3]


def _with_items(units: list[str]) -> list[str]:
    """A line that opens a list ("To rent a unit you must bring:") says nothing alone, nor does an item of it ("not
    hoist items through windows;"): when the whole list is short enough to quote, the line and its items are one
    unit; a longer list stays as its lines (its opening line may hold the list's only fact: "We charge a cleaning fee
    of £45 if you:")."""
    read, absorbed = list(units), set()
    for i, unit in enumerate(units):
        if not unit.endswith(":"):
            continue
        items = []
        for item in units[i + 1:]:
            if not _list_item(item):
                break
            items.append(item)
        joined = " ".join([unit, *(item if _ITEM_GOES_ON.search(item) else f"{item};" for item in items[:-1]),
                           *items[-1:]])
        if items and len(joined.split()) <= LIST_WORDS:
            read[i] = joined
            absorbed.update(range(i + 1, i + 1 + len(items)))
    return [unit for k, unit in enumerate(read) if k not in absorbed]


def _list_item(line: str) -> bool:
    """Can `line` be an item of the list a line ending in ":" opens? It starts lower-case or with a figure ("photo
    ID, and"), or does not end as a sentence does and has no label ("Tick and lungworm cover for dogs"); a
    capitalised line ending in a full stop is a sentence of its own, and a row ("10 sq ft: £15", "Next day delivery
    (order by 2pm): Price: £6.95") is a row."""
    if row_label(line):
        return False
    return bool(_LIST_ITEM.match(line)) or not _SENTENCE_END.search(line) and ": " not in line


def _with_bare_replies(units: list[str]) -> list[str]:
    """A bare "No." says nothing alone: it goes with the sentence that follows and explains it."""
    merged: list[str] = []
    for unit in units:
        if merged and _BARE_REPLY.match(merged[-1]):
            merged[-1] = f"{merged[-1]} {unit}"
        else:
            merged.append(unit)
    return merged


def _label_named(label: str, question: str) -> float:
    """The share of a row label's terms the question names: "Free" of "emails from free users" is 1."""
    said = _cue_terms(label) | identifiers(label)
    return len(said & (_cue_terms(question) | identifiers(question))) / len(said) if said else 0.0


def _term_weights(asked: set[str], candidate_terms: list[set[str]]) -> dict[str, float]:
    """IDF of each question term over the candidates: a term every candidate shares ("Kettlebrook")
    tells them apart no better than none; one only a few share ("Saturday") singles them out."""
    n = len(candidate_terms)
    return {t: math.log(1 + n / (1 + sum(t in c for c in candidate_terms))) for t in asked}


def _coverage(question: str, candidate_terms: list[set[str]]) -> np.ndarray:
    """The IDF-weighted share of the question's cue terms each candidate holds."""
    asked = _cue_terms(question)
    weights = _term_weights(asked, candidate_terms)
    total = sum(weights.values()) or 1.0
    return np.array([sum(weights[t] for t in asked & c) / total for c in candidate_terms])


def _product_cues(asks: str, pairs: list, chunks: list[Chunk], embedder, cosines: np.ndarray, coverage: np.ndarray,
                  candidate_terms: list[set[str]]):
    """For a question naming a product ("Zephyr Mini"): which candidates are about another named product, and,
    when the sources say what kind of thing it is ("Zephyr Mini Travel Kettle"), the cosine and coverage of the
    candidates naming no product read with the question put as its kind too, and which of them name the kind.
    Returns (other, cosines, coverage, named_kind); cosines and coverage unchanged when nothing applies."""
    asked = compound_names(asks)
    if not asked:
        return 0.0, cosines, coverage, 0.0
    sources = [f"{c.title}\n{c.text}" for c in chunks]
    # Names used beside the asked ones (the brand, a colour) are not another product; a sibling of the asked name
    # ("Zephyr Mini" beside "Zephyr 3000" in a table of every kettle's warranty) is.
    brands = brand_words({n for text in sources for n in _NAME.findall(text)})
    theirs = {n for text in sources if names_any(asked, text) for n in _NAME.findall(text)
              if not sibling(n, asked, brands)}
    other = np.array([names_other(asked, p[0], f"{p[2].title} {p[1]}", theirs) for p in pairs])
    named_kinds = kinds(asks, sources)
    if not named_kinds:
        return other, cosines, coverage, 0.0
    # A rule for every product of the kind ("Never put a kettle base in a dishwasher") answers for the one
    # named, yet reads far from a question naming it: a sentence naming no product is judged by both.
    kind_question = as_kind(asks, named_kinds)
    generic = ~other & np.array([not names_any(asked, f"{p[2].title} {p[1]}") for p in pairs])
    cosines = np.where(generic, np.maximum(cosines, embedder.similarity(kind_question, [p[1] for p in pairs])), cosines)
    coverage = np.where(generic, np.maximum(coverage, _coverage(kind_question, candidate_terms)), coverage)
    kind_terms = terms(" ".join(named_kinds.values()))
    return other, cosines, coverage, generic & np.array([bool(kind_terms & c) for c in candidate_terms])


def select_evidence(question: str, chunks: list[Chunk], embedder, min_score: float = 0.3,
                    max_sentences: int = 3, margin: float = 0.12, focus: str = "",
                    answered: str = "") -> list[Evidence]:
    """The sentences that best answer `question`, best first; empty when none is relevant enough.

    Ranked by meaning (MiniLM cosine) plus cheap cues that embeddings blur: the question's rarer terms
    found in the sentence, a figure when the question asks for one ("how much", "when"), the product
    or plan the question names, the code or version it names, the kind of thing it asks for
    ("What ID ..."), a table row labelled with a word of the question, a list for a question after a
    plural ("What apps ..."), the kind of fact it asks for (price, duration, date, contact, discount,
    requirement, place), that fact stated in one clause with the plan or site the question names; a
    sentence marked as no longer current ("Archived 2025") ranks lower unless the question asks about that,
    and so does one about another named product than the one asked about. A rule for the kind of product
    the question names ("Never put a kettle base in a dishwasher" for the Zephyr Mini kettle) is read with
    the question put as that kind too.
    Relevance is judged on meaning alone, so the cues reorder relevant sentences but never make an
    unrelated one count; a code or version that no retrieved chunk names
    ("E-204", "6.0") selects nothing.

    `focus` is what a follow-up asks now ("Do I need a card for it?" after "How long is the trial?",
    `question` then being both read together): meaning is judged on the whole, the cues come from the
    follow-up (and meaning half from it, when it asks a question of its own), so the sentence that
    answered the earlier question does not win again. A sentence quoted in `answered`, the answer the follow-up
    comes after, is left out when it says none of the follow-up's words ("and the one for kids?" after the
    adult plan's row): it answered that question, not this one.
    """
    pairs = [(s, scored_by, c) for c in chunks for s, scored_by in candidate_sentences(c)]
    asked_now = _cue_terms(focus) if focus and answered else set()
    if asked_now:  # "how much?" says nothing of its own: the sentence quoted last may well answer it
        pairs = [p for p in pairs if p[0] not in answered or asked_now & _cue_terms(p[0])]
    if not pairs:
        return []
    asked_codes = codes(question)
    if asked_codes and not any(asked_codes & codes(f"{c.title} {c.text}") for c in chunks):
        return []  # "When is version 6.0 out?": no source names the version asked about
    if any(other_of_kind(name, [f"{c.title}\n{c.text}" for c in chunks]) for name in compound_names(question)):
        return []  # "Is there an app for the Apple Watch?": the sources name Apple Notes and Apple Pencil, not it
    texts = [p[1] for p in pairs]
    cosines = embedder.similarity(question, texts)
    candidate_terms = [_cue_terms(text) for text in texts]
    coverage = _coverage(question, candidate_terms)
    if float(np.max(cosines + 0.1 * coverage)) < min_score:  # the gate botkit has always used, on the whole question
        return []
    # The follow-up's words say what it asks now; "what about ..."/"and ...?" asks what the previous question did.
    asks = focus if focus and _OWN_QUESTION.match(focus) else question
    if focus:
        if asks == focus:  # the whole still says what "it" is
            cosines = (cosines + embedder.similarity(focus, texts)) / 2
        coverage = _coverage(focus, candidate_terms)
        asked_codes = codes(focus) or asked_codes
    other, cosines, coverage, named_kind = _product_cues(asks, pairs, chunks, embedder, cosines, coverage,
                                                          candidate_terms)
    figures = np.array([bool(_FIGURE.search(p[0])) for p in pairs]) if _ASKS_FIGURE.search(asks) else 0.0
    names = _names(focus) or _names(question)
    named = np.array([len(names & c) / len(names) for c in candidate_terms]) if names else 0.0
    named = np.maximum(named, named_kind)  # "a Kettlebrook kettle base" names the Zephyr Mini kettle by its kind
    coded = np.array([bool(asked_codes & codes(text)) for text in texts]) if asked_codes else 0.0
    kind = answer_kind(asks)
    in_kind = np.array([len(kind & c) / len(kind) for c in candidate_terms]) if kind else 0.0
    labels = [row_label(p[0]) for p in pairs]
    labelled = np.array([_label_named(label, asks) for label in labels])
    named_rows = {label.lower() for label, share in zip(labels, labelled) if label and share == 1.0}
    all_rows = {label.lower() for label in labels if label}
    listing = np.array([bool(named_rows & listed_rows(p[0], all_rows)) for p in pairs]) \
        if named_rows and not asks_for_list(asks) else 0.0
    listed = np.array([enumerates(p[0]) for p in pairs]) if asks_for_list(asks) else 0.0
    types = answer_types(asks)
    typed = np.array([any(t.search(p[0]) for t in types) for p in pairs]) if types else 0.0
    # A name most candidates share (the brand, the product every sentence is about) tells no row from another.
    qualifiers = {q for q in _names(asks) if sum(q in c for c in candidate_terms) < len(pairs) / 2}
    bound = np.array([states_for(qualifiers, types, p[0]) for p in pairs]) if qualifiers and types else 0.0
    past = np.array([past_marked(f"{p[2].title}: {p[0]}") for p in pairs]) if not past_marked(asks) else 0.0
    scores = (cosines - PAST_WEIGHT * past - OTHER_WEIGHT * other + TERM_WEIGHT * coverage + FIGURE_WEIGHT * figures
              + NAME_WEIGHT * named + CODE_WEIGHT * coded + HEAD_WEIGHT * in_kind + LABEL_WEIGHT * labelled
              + LIST_WEIGHT * listed - ROWS_LISTED_WEIGHT * listing + TYPE_WEIGHT * typed + BOUND_WEIGHT * bound)
    ranked = sorted(zip(scores, range(len(pairs))), reverse=True)
    best = float(ranked[0][0])
    chosen, seen = [], set()
    for score, i in ranked:
        sentence, _, chunk = pairs[i]
        if score < best - margin or len(chosen) == max_sentences:
            break
        if sentence.lower() not in seen:
            seen.add(sentence.lower())
            chosen.append(Evidence(sentence, chunk, round(float(score), 4)))
    return chosen
