"""The checks a copy candidate must pass to be shown, besides its length limit: spelling, relevance to
the brief, no invented figures or names, the brand's words, complete phrasing and no role-play."""

from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np

from botkit.errors import BotkitError
from botkit.grounding import figures_in, names_in
from botkit.knowledge.terms import bare, english, terms

# Cosine similarity (MiniLM) below which a line is about something else than its brief: on the sample
# brand, lines written for a brief score 0.4-0.7 against it, lines about another brief or nothing under 0.3.
MIN_RELEVANCE = 0.3  # (or it shares a content word with the brief)
WORDS_PER_ANCHOR = 7  # the brand's own archive: 1-2 of the brief's words or names in a 5-12 word line
# Checks a line made of the brief's own words may fail and still be shown: the brand's words test whether
# a model writes in the voice; forcing one onto the person's own words bolted a closing on nearly every line
# (a blind reader flagged it), and a brand without such closings got almost nothing (3 of 96 lines).
BRIEF_MAY_SKIP = ("brand words",)
CHECKS = ("spelling", "relevance", "off the brief", "invented facts", "brand words", "banned words", "incomplete",
          "role-play")

_WORD = re.compile(r"(?<![#@\w])[A-Za-z]+(?:'[A-Za-z]+)?")
# Copy never ends on a word that needs another after it: "...just add the Heron Gooseneck Kettle to".
_DANGLING = set("""a an the and or but nor so to of for with in on at by from into onto about as than that which
who whose your our my their its his her this these those is are was be will can just very more most plus
if because while when where whether via per like""".split())
_CLOSES = {"that", "this", "these", "those", "more", "most", "so"}
# The model talking as an assistant or a person, not writing the brand's copy.
_ROLE_PLAY = re.compile(r"^\s*(?:sure|okay|ok|certainly|of course|here(?:'s| is| are))\b"
                        r"|\b(?:i|i'm|i've|i'll|i'd|me|myself)\b|\byou to do\b|\bas an ai\b", re.I)


def misspelled(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """Words of `text` neither in the English dictionary nor in `allowed` (lower case); hashtags,
    handles and words with digits are skipped, hyphenated words checked part by part."""
    words = {bare(w) for w in _WORD.findall(text.replace("-", " ")) if len(w) > 1}
    return sorted(w for w in english().unknown(words - allowed) if w not in allowed)


def is_incomplete(text: str) -> bool:
    """Does `text` stop mid-phrase: a dangling article, preposition or conjunction, a trailing comma
    or colon, or an unclosed quote or bracket?"""
    body = re.sub(r"(?:\s*#\w+)+\s*$", "", text).strip()  # closing hashtags are not the phrase's end
    words = re.findall(r"[\w'%]+", body.lower())
    # A full stop makes a pronoun or "more" an ending ("Simple as that.", "on orders of $60 or more.").
    dangling = _DANGLING - _CLOSES if re.search(r"[.!?][\"'”)]*$", body) else _DANGLING
    return (not words or words[-1] in dangling or bool(re.search(r"[,;:&/(\-–—]$", body))
            or body.count("(") != body.count(")") or body.count('"') % 2 == 1)


def role_plays(text: str) -> bool:
    """Does `text` speak as an assistant or a person ("I'm ...", "Here's what I need you to do")?"""
    return bool(_ROLE_PLAY.search(text))


def _has(text: str, phrase: str) -> bool:
    """`phrase` in `text` as whole words, a hyphen and a space counting alike ("well made", "well-made")."""
    return bool(re.search(_phrase(phrase), text, re.I))


def _phrase(phrase: str) -> str:
    pattern = r"[\s-]+".join(map(re.escape, re.split(r"[\s-]+", phrase.strip())))
    return rf"\b{pattern}\b"


# Words that may sit beside a bolted-on brand word ("It's simple.", "Simple and steady.") without making it a phrase.
_FILLER = {"it's", "its", "it", "is", "and", "so", "just", "very", "that's", "all", "a", "truly", "always", "too"}


def uses_brand_word(text: str, words: list[str]) -> bool:
    """Does `text` use one of `words` in its copy? A brand word standing alone as a short closing
    sentence ("... on its way today. Simple.") does not count: that is a tag bolted on, not the voice."""
    body = re.sub(r"(?:\s*#\w+)+\s*$", "", text).strip()
    sentences = re.split(r"(?<=[.!?])\s+", body)
    if len(sentences) > 1:
        rest = sentences[-1]
        for word in sorted(words, key=len, reverse=True):
            rest = re.sub(_phrase(word), " ", rest, flags=re.I)
        if not set(re.findall(r"[a-z']+", rest.lower())) - _FILLER:  # nothing but brand words and filler
            body = " ".join(sentences[:-1])
    return any(_has(body, w) for w in words)


class CopyChecks:
    """The checks of one brief's candidates: what the brief, the brand profile and the knowledge base
    state is what copy may say (names and their spelling from all of it, figures from the brief, the
    profile and the knowledge about the brief)."""

    def __init__(self, bot, brief: str, brand_words: bool = True):
        brand = bot.brand
        profile = " ".join([brand.name, brand.tagline or "", brand.audience or "", *brand.voice,
                            *brand.words_to_use, *brand.sample_copy])
        known = f"{brief}\n{profile}\n{knowledge_text(bot)}"
        self.allowed_words = {bare(w) for w in _WORD.findall(known.replace("-", " "))}
        self.names = {n.lower() for n in names_in(known, title=True)}
        # Figures only from what is about this brief: the whole knowledge base holds a figure for almost
        # anything ("$15", "30 days"), so copy could attach any of them to any product.
        kb = _knowledge(bot)
        # The product's own chunks, not rules for every product of its kind (`by_kind`), hold its figures.
        related = "\n".join(f"{c.title}\n{c.text}" for c in kb.search(brief, k=4, min_relevance=0.3, by_kind=False)
                            ) if kb else ""
        self.figures = figures_in(f"{brief}\n{profile}\n{related}")
        self.embedder, self.brief, self.brief_terms = bot.embedder, brief, terms(brief)
        # What the brief is about: its names (not the brand's own) and figures; a brief with none, its words.
        self.key_names = {n.lower() for n in names_in(brief)} - {bare(w) for w in _WORD.findall(brand.name)}
        self.key_figures = figures_in(brief)
        self.use = list(brand.words_to_use) if brand_words else []
        self.tagline = (brand.tagline or "").strip()
        self.avoid = list(brand.words_to_avoid)

    def failures(self, texts: list[str]) -> list[list[str]]:
        """For each text, the names of the checks (`CHECKS`) it fails; [] when it passes them all."""
        relevance = self.relevance(texts)
        return [self._fails(text, score) for text, score in zip(texts, relevance)]

    def relevance(self, texts: list[str]) -> list[float]:
        """Cosine similarity of each text to the brief."""
        if not texts:
            return []
        vectors = np.asarray(self.embedder.embed_documents([self.brief, *texts]), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        return (vectors[1:] @ vectors[0]).tolist()

    def on_brief(self, text: str) -> bool:
        """Does `text` stay on the brief: one thing the brief says (a word, a name, a figure) for every
        `WORDS_PER_ANCHOR` words? Fluent lines about nothing in particular ("Toys for a lifetime!
        Click-and-collect orders can be kept in your hands forever...") drift off it."""
        said = ({bare(w) for w in _WORD.findall(text.replace("-", " "))}
                | {n.lower() for n in names_in(text, title=True)})
        anchors = (len(terms(text) & self.brief_terms) + len(said & self.key_names)
                   + len(figures_in(text) & self.key_figures))
        return anchors >= max(1, len(_WORD.findall(text)) // WORDS_PER_ANCHOR)

    def _without_tagline(self, text: str) -> str:
        """`text` without the brand's tagline (and hashtags) at its end, when something comes before it."""
        body = re.sub(r"(?:\s*#\w+)+\s*$", "", text).strip()
        cut = body.removesuffix(self.tagline).rstrip() if self.tagline else body
        return cut or body

    def _fails(self, text: str, relevance: float) -> list[str]:
        names = {n.lower() for n in names_in(text)} - self.names - self.allowed_words
        failed = {
            "spelling": bool(misspelled(text, self.allowed_words)),
            # A line naming the brief's own things is on it, whatever the embedder says.
            "relevance": relevance < MIN_RELEVANCE and not terms(text) & self.brief_terms,
            "off the brief": not self.on_brief(text),
            "invented facts": bool(figures_in(text) - self.figures) or bool(names),
            "brand words": bool(self.use) and not uses_brand_word(text, self.use),
            "banned words": any(_has(text, w) for w in self.avoid),
            # The brand's own tagline may end where a rule of thumb would not ("Bread worth getting up for.").
            "incomplete": is_incomplete(self._without_tagline(text)),
            "role-play": role_plays(text),
        }
        return [name for name in CHECKS if failed[name]]


def knowledge_text(bot) -> str:
    """Every chunk of the bot's knowledge base, joined ("" when it is empty): what copy may state."""
    kb = _knowledge(bot)
    if kb is None:
        return ""
    key = (id(kb), kb.count())
    if getattr(kb, "_copy_text_key", None) != key:
        documents = kb.collection.get(include=["documents", "metadatas"]) if key[1] else {"documents": [],
                                                                                            "metadatas": []}
        titles = [m.get("title", "") for m in documents["metadatas"] or []]
        kb._copy_text, kb._copy_text_key = "\n".join([*titles, *documents["documents"]]), key
    return kb._copy_text


def brand_words_prompt(bot) -> str:
    """The instruction that asks for one of the brand's words ("" when the profile lists none)."""
    words = bot.brand.words_to_use
    return f" Use one of these words: {', '.join(words)}." if words else ""


def with_note(text: str, output) -> str:
    """A task's chat text, followed by its output's note when fewer variants passed than asked, the copy
    model's `ideas` under a plain label (lines it wrote that are not shown as variants: `best_of_n`),
    and its `caution` (what the copy model's lines are worth, `brand_voice.copy_caution`) beside them."""
    ideas = getattr(output, "ideas", [])
    parts = [text] if text else []
    if note := getattr(output, "note", ""):
        parts.append(_italic(note))
    if ideas:
        parts.append("_Ideas from the small copy model, unchecked by a person (not counted as variants):_\n"
                     + "\n".join(f"- {idea}" for idea in ideas))
    if (caution := getattr(output, "caution", "")) and (text or ideas):
        parts.append(_italic(caution))
    return "\n\n".join(parts)


def _italic(note: str) -> str:
    return f"_{note[:1].upper()}{note[1:]}._"


def copy_text(row: dict) -> str:
    """The copy of an output row: its text fields, joined."""
    return " ".join(v for k, v in row.items() if isinstance(v, str) and v and k != "written_by")


def written_by(*candidates) -> str:
    """Who wrote a row made of several candidates: "model", "brief" (composed from its words) or "model and brief"."""
    found = dict.fromkeys(c.written_by for c in candidates)
    return " and ".join(found) if found else "model"


def origin_mark(row: dict) -> str:
    """What a chat list says after a line composed from the brief's own words (nothing after the model's)."""
    return {"brief": " _(the brief's words)_", "model and brief": " _(partly the brief's words)_",
            "brief and model": " _(partly the brief's words)_"}.get(row.get("written_by", "model"), "")


def check_report(task, bot, dataset: list[dict], problems, on_progress=None, **options) -> dict:
    """How a copy task does on `{"text", "options"}` briefs: each check's pass rate over every candidate
    sampled, how many of the variants asked for were shown (and how many of the copy model's lines were
    shown apart as ideas), and the share of shown variants that pass every check and
    `problems(row, options)` (the task's own limits) when checked again."""
    if not dataset:
        raise BotkitError("the dataset is empty")
    asked = sampled = short = ideas = branded = 0
    failed, found, shown, flawed, started = Counter(), Counter(), [], 0, time.perf_counter()
    variants = []  # per brief, what was shown and what each shown variant fails: for a person to read
    for done, item in enumerate(dataset, 1):
        merged = {**options, **item.get("options", {})}
        rows = bot.run_task(task.name, item["text"], **merged).output
        asked += getattr(rows, "asked", len(rows))
        sampled += getattr(rows, "sampled", 0)
        failed.update(getattr(rows, "failed", {}))
        short += bool(getattr(rows, "note", ""))
        texts = [copy_text(row) for row in rows]
        rechecked = CopyChecks(bot, item["text"], brand_words=getattr(task, "brand_words", True)).failures(texts)
        branded += sum(uses_brand_word(t, bot.brand.words_to_use) for t in texts) if bot.brand.words_to_use else 0
        # The checks a line of the brief's own words may skip are the ones it was shown without (`best_of_n`).
        rechecked = [[name for name in again if row.get("written_by") != "brief" or name not in BRIEF_MAY_SKIP]
                     for row, again in zip(rows, rechecked)]
        for row, again in zip(rows, rechecked):
            wrong = problems(row, task.parse_options(merged)) + again
            found.update(wrong)
            flawed += bool(wrong)
        shown += texts
        ideas += len(getattr(rows, "ideas", []))
        variants.append({"text": item["text"], "options": item.get("options", {}), "note": getattr(rows, "note", ""),
                         "shown": [{"copy": copy_text(row), "fails": problems(row, task.parse_options(merged)) + again,
                                    "written_by": row.get("written_by", "model")}
                                   for row, again in zip(rows, rechecked)],
                         "ideas": list(getattr(rows, "ideas", []))})
        if on_progress:
            on_progress(done)
    rate = (lambda n, of: round(1 - n / of, 4) if of else 0.0)  # noqa: E731
    checks = ("over the limit", "repeats itself", *CHECKS)
    return {
        "task": task.name,
        "inputs": len(dataset),
        "variants_asked": asked,
        "variants_shown": len(shown),
        "briefs_short_of_variants": short,
        "ideas_shown": ideas,  # the copy model's lines shown apart, not as variants (`best_of_n`)
        "candidates_sampled": sampled,
        "check_pass_rates": {name: rate(failed[name], sampled) for name in checks},
        "shown_passing_every_check": rate(flawed, len(shown)),
        # Subject lines and lines of the brief's own words need none (`BRIEF_MAY_SKIP`): the share shown with one.
        "shown_using_brand_words": round(branded / len(shown), 4) if shown else 0.0,
        "problems": dict(found.most_common()),
        "distinct": round(len({t.lower() for t in shown}) / len(shown), 4) if shown else 0.0,
        "mean_characters": round(sum(map(len, shown)) / len(shown), 1) if shown else 0.0,
        "seconds_per_input": round((time.perf_counter() - started) / len(dataset), 2),
        "variants": variants,
    }


def _knowledge(bot):
    """The bot's knowledge base, or None on a bot whose embedder cannot chunk text (the fake one
    plugin tests run on, `botkit.testing.task_runner`): such a bot has no documents to check against."""
    try:
        return bot.knowledge
    except AttributeError:
        return None
