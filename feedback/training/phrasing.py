"""Phrasing targets for the warm start of `botkit train rl --reward grounding`: for a grounded chat, a short
answer built from the source sentence holding the fact by deterministic rephrasing (the clause that says
it, its subject in the question's words, "It", "We" or "Your ...", a leading clause moved to the end or a
closing phrase to the front), kept only when the real grounding check passes it, it says and cites the
fact, and the copy test does not count it as a copy of a source sentence."""

from __future__ import annotations

import json
import re

from botkit.feedback.evaluation.grounding import COPIED_SHARE, copied_share
from botkit.feedback.training.rewards import fact_of, judge_draft
from botkit.knowledge.terms import STOPWORDS, terms

# Words that start a phrase of their own: a clause may be cut right before one, never right after one.
FUNCTION = STOPWORDS | {"before", "after", "until", "while", "because", "unless", "since", "per", "plus", "between",
                        "within", "without", "during", "through", "than", "both", "either", "via", "toward"}
# Where a clause that says no more of the fact may be cut off the sentence holding it.
CLAUSE_END = re.compile(r",\s|;\s|\s(?=(?:and|but|which|that|who|where|because|so|while|from|with|when|if|after|"
                        r"before|until|unless|since|as|for|in|on|at|by|of|to|per|plus|within)\s)")
# Where the question's noun phrase for its subject ends ("the cord | on the toasters").
SUBJECT_END = {"on", "in", "at", "for", "with", "of", "to", "from", "by", "before", "after", "during", "when", "if",
               "that", "which", "and", "or", "than", "without", "under", "over"}
# A sentence's leading determiner: "Your" takes its place (the customer's kettle, not the catalogue's).
DETERMINER = re.compile(r"^(?:the|every|each|all|both|our|a|an|this|any)\s+", re.I)
# Words a sentence's predicate may start with (its verb) besides a third-person "-s" form ("weighs").
VERBS = {"is", "are", "was", "were", "has", "have", "had", "can", "cannot", "will", "must", "may", "does", "do",
         "did", "should", "would", "could"}
# After a noun, not after a verb: "cards never expire", "kettles should be descaled".
AFTER_NOUN = VERBS | {"never", "not", "always", "also", "only", "usually", "still"}
# A lower-case word ending in "s" that is no verb ("glass", "bus", "its", "this").
NOT_VERB = re.compile(r"(?:ss|us|is|ys|'s|ics)$")
# A leading clause or phrase that may close its sentence instead: "If the display shows E2, the kettle is on its
# base" -> "The kettle is on its base if the display shows E2".
LEADING = re.compile(r"^(if|when|for|to|under|after|before|once|unless|with|during|within|in)\s+"
                     r"([^,;]{3,90}),\s+(\S.+)$", re.I)
# A closing phrase that may lead its sentence instead: "We keep chat transcripts for 90 days" -> "For 90 days, we
# keep chat transcripts".
CLOSING = re.compile(r"\s((?:for|within|in|on|at|until|after|before|during|every)\s(?!least\b|most\b)[^,;:]+)$")


def clauses(sentence: str, says) -> list[str]:
    """The parts of `sentence` (without its full stop) that still say the fact (`says`), longest first: the
    sentence, its beginnings that end before a clause or phrase of their own ("The Zephyr 3000 holds 1.7
    liters" of "... of water"), and the part after a leading clause ("If the kettle shows E2, the kettle is
    on its base with no water inside")."""
    sentence = sentence.strip().rstrip(".!")
    cuts = [sentence[:m.start()].rstrip(",;: ") for m in CLAUSE_END.finditer(sentence)]
    cuts += [sentence[m.end():] for m in re.finditer(r"[,;]\s", sentence)]
    kept = [c for c in [sentence] + cuts if c and says(c) and c.split()[-1].lower().strip(",;:") not in FUNCTION]
    return sorted(set(kept), key=len, reverse=True)


def split_subject(clause: str) -> tuple[str, str, str]:
    """(determiner, name, predicate) of a clause that starts with a named subject: "The Brookside 4-Slice
    Toaster weighs 6.8 pounds" -> ("The", "Brookside 4-Slice Toaster", "weighs 6.8 pounds"); modifiers between
    the name and the verb ("electric kettle") belong to neither. ("", "", "") when no verb follows a name."""
    words = clause.split()
    start = 1 if words and DETERMINER.match(words[0] + " ") else 0
    end = start
    while end < len(words) and (words[end][:1].isupper() or words[end][:1].isdigit()):
        end += 1
    if end == start:
        # A common noun after a determiner ("the kettle is on its base"): its verb must be one of VERBS.
        for i in range(start + 1, min(len(words), start + 4)) if start else ():
            if words[i] in VERBS:
                return " ".join(words[:start]), " ".join(words[start:i]), " ".join(words[i:])
        return "", "", ""
    for i in range(end, min(len(words), end + 3)):
        word, after = words[i], words[i + 1] if i + 1 < len(words) else ""
        if word in VERBS or (word.islower() and word.endswith("s") and not NOT_VERB.search(word)
                             and after not in AFTER_NOUN | {"and", "or"}):
            return " ".join(words[:start]), " ".join(words[start:end]), " ".join(words[i:])
    return "", "", ""


def takes_pronoun(predicate: str) -> bool:
    """Can "It"/"They" stand before `predicate`? Yes when it starts with one of VERBS, or with a guessed "-s" verb
    before a function word or a figure ("weighs 6.8 pounds", "lets you"); not before another content word, where
    the "-s" word may be the subject's noun ("members earn 50 bonus points")."""
    words = predicate.split()
    return words[0] in VERBS or len(words) < 2 or words[1].lower() in FUNCTION or bool(re.match(r"[$£€\d]", words[1]))


def we(predicate: str) -> str:
    """The brand's predicate as the brand says it: "does not run Black Friday sales" -> "do not run ..."."""
    verb, _, rest = predicate.partition(" ")
    said = {"is": "are", "has": "have", "does": "do", "was": "were"}.get(verb)
    if not said:
        said = (verb[:-3] + "y" if verb.endswith("ies") else verb[:-2] if re.search(r"(?:ches|shes|sses|xes)$", verb)
                else verb[:-1] if verb.endswith("s") and verb not in VERBS else verb)
    return f"{said} {rest}".strip()


def question_subjects(question: str, predicate: str) -> list[str]:
    """What the question calls its subject, in its own words: the noun phrase after "is/does/... the (my,
    your, this)" up to a preposition or conjunction ("How heavy is the big four-slice toaster?" -> "The big
    four-slice toaster"; "How many grind sizes does the Millrace burr grinder offer?" -> "The Millrace burr
    grinder"), without a last word the predicate says ("When is the Portland store open?")."""
    asked = re.split(r"(?<=[.!?])\s+", question.strip())[-1]
    asked = re.sub(r"\b(\w+)'s\s+(?=(?:the|my|your|this|an?)\b)", r"\1 is ", asked)  # "What's the ..."
    match = re.search(r"\b(is|are|does|do|did|can|will|should|was|were)\s+((?:the|my|your|this|an?)\s+.+?)\?*$",
                      asked, re.I)
    if not match:
        return []
    words = match.group(2).rstrip("?").split()
    end = 1
    while end < len(words) and words[end].lower() not in SUBJECT_END | VERBS:
        end += 1
    if match.group(1).lower() in {"does", "do", "did", "can", "will", "should"}:
        # Its verb follows the subject: the first lower-case word the predicate says ("How long does the Heron keep
        # water hot?": "keep" of "keeps"), else the last ("... does the grinder offer?", "does the kettle come with").
        said = predicate.lower().split()
        verb = next((i for i in range(2, end) if words[i].islower() and {words[i], f"{words[i]}s", f"{words[i]}es"}
                     & set(said)), None)
        if verb is not None:
            end = verb
        elif end == len(words) or words[end].lower() not in VERBS:
            end -= 1
    elif end > 1 and words[end - 1].lower() in predicate.lower().split():
        end -= 1  # "When is the Portland store open?"
    if end < 2:
        return []
    determiner = "Your" if words[0].lower() in ("my", "your") else words[0].capitalize()
    if words[end - 1].lower() in FUNCTION:
        return []
    return [" ".join([determiner, *words[1:end]])]


def modifiers_dropped(predicate: str, says):
    """The predicate without one run of 1-2 lower-case content words after its verb that stand before another
    (a modifier: "two nesting stainless steel cups" -> "two nesting cups"), where it still says the fact: a
    run of copied words broken where the sentence can spare a word. Function words, figures and the verb stay."""
    words = predicate.split()
    content = [i for i, w in enumerate(words) if i and w.isalpha() and w.islower() and w not in FUNCTION]
    for size in (1, 2):
        for i in content:
            # A modifier stands before the word it modifies: the run and the next word are content words.
            if all(j in content for j in range(i, i + size + 1)):
                text = " ".join(words[:i] + words[i + size:])
                if says(text):
                    yield text


def moved(sentence: str) -> list[str]:
    """`sentence` (without its full stop) with its leading clause moved to its end: "If the Heron Gooseneck
    Kettle display shows "E2", the kettle is on its base" -> "The kettle is on its base if the Heron Gooseneck
    Kettle display shows "E2""; [] when it has none."""
    match = LEADING.match(sentence.strip().rstrip(".!"))
    if not match or re.search(r"[,;:]", match.group(3)):  # "If X, do Y; Z": the clause belongs to Y alone
        return []
    main = match.group(3)
    return [f"{main[:1].upper()}{main[1:]} {match.group(1).lower()} {match.group(2)}"]


def fronted(text: str) -> list[str]:
    """`text` with its closing phrase (a preposition and what follows it, up to six words) leading: "We keep live
    chat transcripts for 90 days" -> "For 90 days, we keep live chat transcripts"; [] when it has none or the
    rest would be under three words."""
    match = None if re.search(r"[,;:]", text) else CLOSING.search(text)
    if not match or len(match.group(1).split()) > 6 or len(text[:match.start()].split()) < 3:
        return []
    rest, phrase = text[:match.start()], match.group(1)
    first, _, after = rest.partition(" ")
    if first in {"It", "They", "We", "The", "Your", "A", "An"}:  # not a name: lower case after the phrase
        first = first.lower()
    return [f"{phrase[:1].upper()}{phrase[1:]}, {first} {after}"]


def candidates(sentence: str, says, brand: str = "", question: str = "") -> list[str]:
    """Rephrasings of a fact's source sentence, in the order tried: for each part that says the fact
    (`clauses` of the sentence and of it with its leading clause `moved` to the end, longest first), its
    predicate after the question's own name for the subject (`question_subjects`), after the sentence's own
    lower-case subject ("The kettle"), after "Your" and the subject's name with its modifiers ("Your Zephyr 3000
    replacement lid costs $18": the modifiers may be what is named, a part of the product), after "It"/"They"
    (`takes_pronoun`), or after "We" for the brand; then each with its closing phrase `fronted`; then each with a
    modifier of the predicate left out."""
    whole, fewer = [], []
    parts = [c for s in [sentence, *moved(sentence)] for c in clauses(s, says)]
    for clause in sorted(set(parts), key=len, reverse=True):
        determiner, name, predicate = split_subject(clause)
        if not predicate or not says(predicate):
            continue
        if name == brand:
            if f"{name} {predicate}" not in clause:
                continue  # "Kettlebrook gift wrapping costs ...": the brand names what costs, it is not the subject
            subjects = ["We"]
            predicate = we(predicate)
        else:
            verb = predicate.split()[0]
            plural = verb in {"are", "have", "do", "were"} or not verb.endswith("s") and verb not in VERBS
            # The question's name for the subject only where it names the same thing ("the big four-slice
            # toaster" for "The Brookside 4-Slice Toaster", never "the warranty" for "The Zephyr 3000").
            subject = clause[:clause.index(predicate)].strip()
            # Named by its head: "the big four-slice toaster" is the Brookside toaster, "the Zephyr Mini's capacity"
            # is not the Zephyr Mini.
            subjects = [q for q in question_subjects(question, predicate) if terms(q.split()[-1]) <= terms(subject)]
            subjects += [subject[:1].upper() + subject[1:]] if not name[:1].isupper() else []
            subjects += [f"Your {subject[len(determiner):].strip()}"] if determiner and name[:1].isupper() else []
            # Named first, "It" last: the check can tell what a name is about, not what "It" stands for.
            subjects += ["They" if plural else "It"] if takes_pronoun(predicate) else []
        whole += [f"{subject} {predicate}" for subject in subjects]
        fewer += [f"{subject} {shorter}" for subject in subjects for shorter in modifiers_dropped(predicate, says)]
    moves = [f for text in whole for f in fronted(text) if says(f)]
    return list(dict.fromkeys(whole + moves + fewer))


def phrasing_target(row: dict, embedder, answer_sentences: int = 1) -> str | None:
    """A target completion for a grounded RL row (`rewards.grounded_prompts`): the first rephrasing of a
    source sentence that says the fact whose draft "<rephrasing> [n]." the grounding check passes in the
    model's words, saying and citing the fact, and the copy test does not count as a copy; None when no
    rephrasing passes (the row is left out of the warm start rather than taught a copy or a guess)."""
    data = json.loads(row["sources"])
    _, fact_sentences, says = fact_of(data)
    texts = [s["chunk"]["text"] for s in data["sources"]]
    # The sources' sentences that say the fact themselves, with their [n]; a key fact's quote sentence.
    holders = [(s["sentence"], s["n"]) for s in data["sources"] if says(s["sentence"])]
    holders += [(s, n) for s in fact_sentences for t, n in ((src["sentence"], src["n"]) for src in data["sources"])
                if t.strip() == s.strip() and (s, n) not in holders]
    for sentence, n in holders:
        for text in candidates(sentence, says, data["brand"], data["question"]):
            if copied_share(text, texts) >= COPIED_SHARE:
                continue
            draft = f"{text} [{n}]."
            verdict = judge_draft(data, draft, embedder, answer_sentences)
            if verdict["phrased"] and verdict["cites_fact"]:
                return draft
    return None


def phrasing_examples(rows: list[dict], embedder, answer_sentences: int = 1) -> tuple[list[dict], int]:
    """SFT rows for the warm start: each grounded row's chat (kept whole: it is the serving chat) with its
    `phrasing_target` as the completion, and how many rows had none."""
    out = []
    for row in rows:
        target = phrasing_target(row, embedder, answer_sentences)
        if target:
            out.append({"prompt": row["prompt"], "completion": target, "question": row["question"],
                        "sources": row["sources"]})
    return out, len(rows) - len(out)
