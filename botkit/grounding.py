"""Grounding that holds with a tiny model: pick the source sentences that answer the question,
then check the generated answer against them and fall back to quoting them when it is unsupported.

The check is deliberately strict about facts (numbers, amounts, names): a fluent answer that adds a
number the sources do not contain is worse than a plain quote. It guards strong models too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from botkit.evidence import Evidence, antecedent, named_heading
from botkit.knowledge.questions import AUXILIARIES
from botkit.knowledge.terms import STOPWORDS, WORD, asking_part, bare, content_words, english, stem, terms
from botkit.plaintext import shown_text, urls_in

# Where a sentence of a model's draft ends: any whitespace after . ! ? (the draft's next sentence may
# start in lower case), but not after "a.m." / "e.g." style abbreviations.
DRAFT_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![a-z]\.[a-z]\.)\s+")
# A capitalised word that does not start a sentence: a name the answer gives (a product, place, person).
_NAME_WORD = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CITATION = re.compile(r"\[(\d+)\]")
_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "ninety": 90, "hundred": 100, "thousand": 1000,
}
FILLER = re.compile(r"^\s*(?:(?:the\s+)?answer(?:\s+to\s+(?:your|the|this)\s+question)?\s*(?:is)?\s*[:\-]"
                     r"|(?:the\s+)?sources?(?:\s+(?:says?|states?)(?:\s+that)?|\s*:)"
                     r"|according\s+to\s+(?:the\s+)?sources?\s*,?)\s*", re.I)
# Whole sentences a small chat model pads with; they carry no facts.
PADDING = re.compile(
    r"^(?:i'?m sorry|i apologi[sz]e|sorry|great question|thanks? (?:you )?for|i hope this helps|let me know|"
    r"feel free|please (?:note|let)|as an ai|the answer (?:was|is) not|awesome|great!)", re.I)
NEGATION = re.compile(r"\b(?:not|never|no|none|nothing|cannot|can't|don't|doesn't|isn't|aren't|won't|without)\b", re.I)
# A slot left empty: a sentence that stops on a word that needs more ("... delivery is . [1]"), a lone
# currency sign, empty brackets, a preposition or article straight before a verb. A draft with one lost its fact; a
# source sentence with one lost markup.
# A colon with text after it is a label, as in a table row ("Security fixes until: 22 October 2025").
_HOLE = re.compile(
    r"\b(?:is|are|was|were|be|costs?|at|of|for|to|from|by|the|a|an|and|or|with|within|than|per|until|is:)"
    r"\s*(?:[.,;!?](?=\s|$)|:\s*$)|(?:^|\s)[.,;:!?](?=\s|$)|[$£€]\s*(?:[.,;:!?]|$)|\(\s*\)|"
    # or a name lost between a preposition or article and its verb ("The gate hours for are 7am to 8pm").
    r"(?-i:\b(?:at|of|for|to|from|by|with|the|a|an)\s+(?:is|are|was|were)\b)", re.I)
_POLAR_QUESTION = re.compile(rf"^\s*(?:{AUXILIARIES}|am|was|were|shall|had|may|might|must|"
                             r"isn't|aren't|can't|don't|doesn't)\b", re.I)
# A reply's "Yes"/"No": "No" only as a word of its own ("No, ...", "No."), never the determiner of "No payment
# card is needed", whose meaning is lost with it.
YES_NO = re.compile(r"^\s*(yes\b|no\b(?=\s*(?:[,.!:;-]|$)))[\s,.!:;-]*", re.I)
# Document text that talks to the assistant instead of the customer (indirect prompt injection).
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|guidelines|above|previous)\b"
    r"|\bsystem prompt\b|\byou are now\b|\b(?:as|to|for) (?:an?|the) (?:ai|assistant|chatbot|language model|llm)\b"
    r"|\b(?:assistant|chatbot|ai|llm)s?\b.{0,20}\b(?:must|should|always|never)\b", re.I)

# A draft that talks about its sources instead of to the customer ("The source confirms that ...", "The citation
# for: ..."): a small model's habit, never an answer, unless the documents themselves speak of such things.
_ABOUT_SOURCES = re.compile(r"\b(?:the|this|that|each|these|those|a|my)\s+(?:sources?|citations?|passages?|excerpts?|"
                            r"context|documents?|quotes?)\b", re.I)


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
    sentence = FILLER.sub("", sentence.strip(" :;-")).strip()
    if not sentence or PADDING.match(sentence):
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


def has_hole(sentence: str) -> bool:
    """Does `sentence` have an empty slot where a fact was lost ("... delivery is . [1]")?"""
    return bool(_HOLE.search(strip_citations(sentence)))


def talks_to_assistant(sentence: str) -> bool:
    """Is `sentence` an instruction to the assistant ("ignore previous instructions", "reveal your
    system prompt") rather than a fact for the customer? Such document text is never used."""
    return bool(_INSTRUCTION.search(sentence))


def repeats(text: str, private: str, n: int = 6) -> bool:
    """Does `text` repeat `n` words in a row of `private` (the system prompt)?"""
    words, secret = _tokens(text), _tokens(private)
    grams = {tuple(secret[i:i + n]) for i in range(len(secret) - n + 1)}
    return any(tuple(words[i:i + n]) in grams for i in range(len(words) - n + 1))


def _asked_in(evidence: Evidence) -> str:
    """The question line of a question-answer chunk ("Q: ..."), else ""."""
    text = evidence.chunk.text
    return text.split("\n", 1)[0][2:] if text.startswith("Q:") else ""


def stated_answer(question: str, evidence: list[Evidence]) -> str:
    """"yes" or "no" when a source states it for this yes/no question (a source answer that begins
    "Yes,"/"No," on the same subject, or a sentence that affirms every term asked, itself saying one of
    them: its section title may complete it, never say it alone); else ""."""
    if not _POLAR_QUESTION.match(question) or NEGATION.search(question):
        return ""
    asked = terms(question)
    for e in evidence:
        said = terms(e.sentence)
        context = terms(e.chunk.title) | said
        lead = YES_NO.match(e.sentence)
        # Three in four of the asked terms: a FAQ's "No." answers its own question, and half the terms
        # ("Lumen Notes" of "Can I connect Lumen Notes to Slack?") match many questions it does not answer.
        if lead and len(asked & (context | terms(_asked_in(e)))) >= 0.75 * len(asked):
            return lead.group(1).lower()
        # A heading names what its section is about ("Paying in installments"), not what each sentence under
        # it says ("Klarna runs its own credit check"): a yes needs the sentence to say something asked. A
        # FAQ's question is not what a later sentence of its answer affirms ("Parcel deliveries run Monday
        # to Saturday." under "Do you deliver on Sundays?" says no Sunday).
        if not lead and len(asked) >= 2 and asked <= context and asked & said and not NEGATION.search(e.sentence):
            return "yes"
    return ""


def names_in(text: str, title: bool = False) -> set[str]:
    """Names in `text`: capitalised words (not the first of a sentence, unless `text` is a title) and
    the model numbers that follow them ("Zephyr 3000" -> zephyr, 3000)."""
    found = set()
    first = r"\b" if title else r"(?<![.!?]\s)(?<!^)\b"
    for match in re.finditer(first + r"([A-Z][a-zA-Z]+)(?:\s+(\d[\w.]*))?", text):
        if match.group(1).lower() not in STOPWORDS:
            found.add(bare(match.group(1)))
            if match.group(2):
                found.add(match.group(2).rstrip("."))
    return found


_COMPOUND = re.compile(r"\b([A-Za-z][a-z]+)[A-Z]{2,}\b")


def other_subject(question: str, evidence: Evidence, allowed: str = "") -> str:
    """The names `evidence` is about instead of those the question asks about ("3000" when the question
    asks about the Zephyr Mini and the sentence is the Zephyr 3000's); "" when it may be the same."""
    brand = {bare(w) for w in WORD.findall(allowed)}
    # What the customer says before asking ("I live in France.") is context, not what the question is about.
    asked = {stem(n) for n in names_in(asking_part(question)) - brand}
    context = f"{evidence.chunk.title} {evidence.chunk.text}"
    # A compound in capitals names what it starts with: "macOS" is about the Mac, "iPadOS" the iPad.
    about = {stem(w) for w in _tokens(context)} | {stem(w.lower()) for w in _COMPOUND.findall(context)}
    if not asked or asked <= about:
        return ""
    title = names_in(evidence.chunk.title, title=True)
    if UNIVERSAL.search(evidence.sentence):  # a rule for every product ("Never put a kettle base ...")
        title = _title_names(evidence.chunk.title, evidence.chunk.text)
    others = (names_in(evidence.sentence) | title) - brand
    return ", ".join(sorted(n for n in others if stem(n) not in asked))


# A sentence that states a rule for all of a kind: it answers for each product of that kind it does not name.
UNIVERSAL = re.compile(r"\b(?:never|always|any|all|every|each)\b", re.I)


def _title_names(title: str, text: str) -> set[str]:
    """The names a section title gives to a rule stated for all: its capitalised words that the text under it
    also capitalises as a name, or that no English dictionary holds ("Zephyr"); a heading's common words
    ("Safety Notices › General") name no product, so "Never put a kettle base ... in a dishwasher" there is
    not about another product than the Zephyr Mini asked about. (Under any other sentence a heading's words
    still tell what it is about: "Open 9:30 to 16:30" under "Winter Hours" is not about Boxing Day.)"""
    named = names_in(text)
    return {w for w in names_in(title, title=True) if w in named or english().unknown([w])}


# How much closer the question must be to its chosen sentence without its unknown words before the sentence counts
# as answering only the rest: measured on four knowledge bases, questions answered right came to -0.04 at worst.
UNKNOWN_PULL = -0.05


def pulls_away(question: str, unknown: set[str], evidence: Evidence, embedder) -> bool:
    """Is the question closer to `evidence` without its words no document uses (stems in `unknown`)? A source
    that says such a word in other words ("paused" for "freeze") is drawn nearer by it; one that answers only
    the rest of the question ("export a whole notebook" for "print a whole notebook") is pushed away."""
    without = WORD.sub(lambda word: "" if stem(bare(word.group(0))) in unknown else word.group(0), question)
    text = f"{evidence.chunk.title}: {evidence.sentence}"
    pull = embedder.similarity(question, [text])[0] - embedder.similarity(without, [text])[0]
    return float(pull) <= UNKNOWN_PULL


@dataclass
class Check:
    supported: bool
    reason: str
    # The answer may still pass once it says more (its next sentence may carry the key figure or
    # the source's negation); a wrong figure or name can never be fixed by adding text.
    incomplete: bool = False


def check_answer(answer: str, question: str, evidence: list[Evidence], embedder, allowed: str = "",
                 private: str = "") -> Check:
    """Is every fact in `answer` backed by `evidence`? `allowed` adds words always fine (brand name);
    `private` is text the answer must never repeat (the system prompt)."""
    if not answer.strip():
        return Check(False, "empty answer", incomplete=True)
    if len(answer.split()) > 90:
        return Check(False, "answer too long to verify")
    source_text = " ".join(e.sentence for e in evidence)
    answer_plain = _CITATION.sub("", answer)
    if has_hole(answer_plain):
        return Check(False, "the answer has an empty slot where a fact should be")
    if _ABOUT_SOURCES.search(answer_plain) and not _ABOUT_SOURCES.search(source_text):
        return Check(False, "the answer talks about its sources, not to the customer")
    if private and repeats(answer_plain, private):
        return Check(False, "the answer repeats the system prompt")
    if urls_in(answer_plain) - urls_in(" ".join(e.chunk.text for e in evidence)):
        return Check(False, "the answer carries a link that is not in the sources")
    lead = YES_NO.match(answer_plain)
    if lead:
        said, answer_plain = lead.group(1).lower(), answer_plain[lead.end():]
        if not content_words(answer_plain):
            return Check(False, f'a bare "{said}" needs the source sentence that says it', incomplete=True)
        if said != stated_answer(question, evidence):
            return Check(False, f'no source says "{said}" to this question')
    extra = extra_figures(answer_plain, source_text, question)
    if extra:
        return Check(False, f"numbers not in the sources: {sorted(extra)}")
    misplaced = figures_out_of_place(answer_plain, question, evidence)
    if misplaced:
        return Check(False, misplaced)
    negated, source_negated = bool(NEGATION.search(answer_plain)), bool(NEGATION.search(evidence[0].sentence))
    if negated != source_negated:
        return Check(False, "the answer and the source disagree on a negation", incomplete=source_negated)
    if turns_around(answer_plain, evidence[0].sentence):
        return Check(False, 'the answer says "always" where the source says "never", or the reverse')
    key_numbers = figures_in(evidence[0].sentence) - figures_in(question)
    if key_numbers and not (key_numbers & figures_in(answer_plain)):
        return Check(False, "the answer leaves out the source's key figure", incomplete=True)
    known = {stem(w) for w in content_words(f"{source_text} {question} {allowed}")}
    words = content_words(answer_plain)
    novel = [w for w in words if stem(w) not in known]
    if words and len(novel) / len(words) > 0.25:
        return Check(False, f"words not in the sources: {novel[:5]}", incomplete=True)
    # "The source says you can drop off a toaster if you're not buying": the question echoed as a fact.
    sourced = {stem(w) for w in content_words(f"{source_text} {allowed}")}
    echoed = [w for w in words if stem(w) not in sourced]
    if words and len(echoed) / len(words) > 0.4:
        return Check(False, f"the answer restates the question, not the sources: {echoed[:5]}", incomplete=True)
    unknown = names_not_in(answer_plain, f"{source_text} {question} {allowed}")
    if unknown:
        return Check(False, f"names not in the sources: {unknown[:5]}")
    anchor = max(evidence, key=lambda e: len(terms(e.sentence) & terms(answer_plain)))
    other = other_subject(question, anchor, allowed)
    if other:
        return Check(False, f"the source is about {other}, not what the question asks about")
    if not terms(answer_plain) & terms(question) and float(embedder.similarity(question, [answer_plain])[0]) < 0.3:
        return Check(False, "the answer shares nothing with the question")
    similarity = float(embedder.similarity(answer_plain, [source_text])[0])
    if similarity < 0.5:
        return Check(False, f"answer drifts from the sources (similarity {similarity:.2f})", incomplete=True)
    return Check(True, "supported")


_ALWAYS, _NEVER = re.compile(r"\balways\b", re.I), re.compile(r"\bnever\b", re.I)


def turns_around(answer_plain: str, source: str) -> bool:
    """Does the answer say "always" where the source says "never", or the reverse? Both may still hold a negation
    elsewhere ("... should always be washed in water, because the steel can rust if it is not dried" of "Never wash
    the burrs in water, because ... if it is not dried"), so the negation test alone passes them."""
    def flips(a, b):
        return bool(a.search(answer_plain) and not a.search(source) and b.search(source) and not b.search(answer_plain))

    return flips(_ALWAYS, _NEVER) or flips(_NEVER, _ALWAYS)


def extra_figures(answer_plain: str, source_text: str, question: str) -> set[float]:
    """The figures of the answer that neither the sources nor the question have."""
    return figures_in(answer_plain) - figures_in(source_text) - figures_in(question)


def figures_out_of_place(answer_plain: str, question: str, evidence: list[Evidence]) -> str:
    """Why the answer's figures are not the sources' as they stand: figures of one sentence that no one
    source sentence states together (stitched from several), or a figure beside other words than in the
    sources; "" when neither."""
    for sentence in re.split(r"(?<=[.!?])\s+", answer_plain):
        figures = figures_in(sentence) - figures_in(question)
        if figures and not any(figures <= figures_in(e.sentence) for e in evidence):
            return f"figures {sorted(figures)} are not stated together in any source sentence"
    source_text = " ".join(e.sentence for e in evidence)
    out_of_context = _number_contexts(answer_plain, figures_in(question)) - _number_contexts(source_text)
    out_of_context -= said_of_its_subject(answer_plain, out_of_context, evidence)
    if out_of_context:
        return f"figures used in a different context than the sources: {sorted(out_of_context)[:3]}"
    return ""


# A verb that only joins a subject to its figure ("The price of the Brew Bundle is $219").
COPULA = {"is", "are", "was", "were"}


def said_of_its_subject(answer_plain: str, contexts: set[str], evidence: list[Evidence]) -> set[str]:
    """The `contexts` that are a copula before a figure ("is 219") whose subject a source sentence stating that
    figure names: every content word before the copula but a generic one ("price", "cost"), model numbers
    included, is in that sentence or its section title. "The price of the grinder and gooseneck kettle bundle is
    $219" says the figure of "The Brew Bundle pairs a Millrace Burr Grinder with a Heron Gooseneck Kettle for
    $219"; "The Zephyr Mini is $129" does not say that of "The Zephyr 3000 costs $129" (no "mini" there)."""
    from botkit.knowledge.terms import GENERIC

    forgiven = set()
    for sentence in re.split(r"(?<=[.!?])\s+", answer_plain):
        tokens = _tokens(sentence)
        for i, token in enumerate(tokens[2:], start=2):
            context = f"{tokens[i - 1]} {token}"
            if context not in contexts or tokens[i - 1] not in COPULA:
                continue
            subject = {stem(t) for t in tokens[:i - 1] if t not in STOPWORDS and t not in GENERIC}
            if subject and any(_names(subject, _figure(token), e) for e in evidence):
                forgiven.add(context)
    return forgiven


def _names(subject: set[str], figure, evidence: Evidence) -> bool:
    """Does the source sentence state `figure` of `subject` (stems): all of them in the sentence or its title, and
    one in the clause that holds the figure ("..., a saving of $29" says $29 of no bundle)."""
    if not subject <= {stem(t) for t in _tokens(f"{evidence.chunk.title} {evidence.sentence}")}:
        return False
    for clause in re.split(r"[,;]\s", evidence.sentence):
        tokens = _tokens(clause)
        if figure in {_figure(t) for t in tokens if t[0].isdigit()} and subject & {stem(t) for t in tokens}:
            return True
    return False


def names_not_in(answer_plain: str, known_text: str) -> list[str]:
    """The answer's names (capitalised words, and its first word) that `known_text` never spells so: a tiny
    model misspells them ("Zephyre", "Zepher"), so names must match exactly."""
    exact = {bare(w) for w in WORD.findall(known_text)}
    names = set(_NAME_WORD.findall(answer_plain))
    names |= {w for w in WORD.findall(answer_plain[:40].split(" ", 1)[0]) if w.lower() not in STOPWORDS}
    return [n for n in names if bare(n) not in exact and bare(n).rstrip("s") not in exact]


# Sentence scores closer than this do not tell the answer from its neighbour, so the second is quoted too:
# the next row of a table, the rest of a FAQ answer. Measured on quotes (0.03 before): right facts up on
# helpdesk and held-out, none lost anywhere; the median quote grew from 95 to 136 characters.
QUOTE_MARGIN = 0.1


def cited_numbers(text: str) -> list[int]:
    return [int(n) for n in _CITATION.findall(text)]


def quote_answer(evidence: list[Evidence], number_of, question: str = "", allowed: str = "",
                 max_sentences: int = 2) -> str:
    """The fallback: the best source sentences, each with its citation, as plain text; sentences with a
    hole or about another product than the one asked give way to the next best. A yes/no question
    gets "Yes."/"No." first when a source states it."""
    usable = [e for e in evidence if not has_hole(shown_text(e.sentence)) and not other_subject(question, e, allowed)]
    ranked = usable or evidence
    best = ranked[0]
    picked = [best] + [e for e in ranked[1:max_sentences] if e.score >= best.score - QUOTE_MARGIN]
    urls = urls_in(" ".join(e.chunk.text for e in evidence))
    said = stated_answer(question, picked[:1]) if question else ""
    lead = f"{said.capitalize()}. " if said and not YES_NO.match(best.sentence) else ""

    quoted = {e.sentence for e in picked}

    def shown(e: Evidence) -> str:
        # A FAQ's "No." answers the FAQ's own question: quoted for another question it would say no to that one.
        sentence = e.sentence if said or not question else YES_NO.sub("", e.sentence, count=1)
        before = antecedent(e)
        if before and before not in quoted:
            sentence = f"{before} {sentence}"
        heading = named_heading(e, question)
        sentence = shown_text(f"{heading}: {sentence}" if heading else sentence, urls)
        return sentence[:1].upper() + sentence[1:]

    if len(picked) == 2 and number_of(picked[0].chunk) == number_of(picked[1].chunk):
        text = " ".join(shown(e) for e in picked) + f" [{number_of(best.chunk)}]"
    else:
        text = " ".join(f"{shown(e)} [{number_of(e.chunk)}]" for e in picked)
    return lead + " ".join(text.split())
