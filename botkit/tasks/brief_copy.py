"""Copy composed from the brief's own words: lines that cannot be nonsense (every fact in them is the
brief's), in the brand's patterns, offered to best-of-N beside the model's samples and checked alike."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

from botkit.jsonl import read_jsonl

ARCHIVE_NAME = "copy_archive.jsonl"  # a brand's copy archive sits beside its profile
COPY_FIELDS = ("subject", "headline", "description", "post")
_CLAUSE = re.compile(r"[^.,:;!?—]+")
# What may sit beside a brand word in a closing phrase: small words that claim nothing ("simple as that",
# "made simple"); "still built to last" says something of a product, wrong for a payment option.
_SMALL = {"as", "that", "this", "it", "it's", "is", "so", "just", "made", "all", "there"}
# A phrase may stop before one of these and still say something true and whole ("Next-day delivery across
# the US" of "... on orders placed before noon"); the checks still judge the line.
_QUALIFIER = re.compile(r"\s+(?:with|on|for|at|in|from|until|across|via|by|when|if|before|after)\s+")


def compose(brief: str, limit: int, closings: list[str] = (), sentence: bool = False) -> list[str]:
    """Lines of at most `limit` characters made of the brief's own phrases: the brief, its topic (the
    part before a colon), what follows the colon, its first clause (not the first item of a list), and
    "topic: first clause"; each also with one of the brand's closing phrases (`brand_closings`).
    `sentence`: end each with a full stop (descriptions and posts), else leave it bare (subject lines
    and headlines)."""
    text = _trimmed(" ".join(brief.split()))
    if not text:
        return []
    head, _, rest = text.partition(": ")
    parts = [text]
    if rest:
        parts += [head, rest]
        first, _, after = rest.partition(", ")
        if after and not _is_list_end(after):  # "try the kettles, toasters and grinders": one list
            parts += [first, f"{head}: {first}"]
    elif len(first := text.split(", ")[0].split()) >= 3 and not _is_list_end(text.partition(", ")[2]):
        parts.append(" ".join(first))  # "The Zephyr 3000 electric kettle" of "..., $129, with a warranty"
    room = limit - 2 - max((len(c) for c in closings), default=0)  # what a phrase may take with a closing
    parts += [cut for p in parts if len(p) > room for cut in _shortened(p, limit)]
    lines = []
    # One closing per phrase, taken in turn: variants differ in what they say, not only in how they end.
    for i, part in enumerate(dict.fromkeys(_trimmed(p) for p in parts if len(_trimmed(p).split()) >= 2)):
        part = part[:1].upper() + part[1:]
        lines.append(f"{part}." if sentence and not part.endswith(".") else part)
        if closings:
            lines.append(f"{part}, {closings[i % len(closings)]}.")
    return [line for line in dict.fromkeys(lines) if len(line) <= limit]


def _is_list_end(after: str) -> bool:
    """Is what follows a comma the rest of a list ("base, filter, guide and a descaling tablet")?"""
    return bool(re.search(r"\b(?:and|or)\b", after.split(", ")[-1]))


def _trimmed(phrase: str) -> str:
    """`phrase` without trailing punctuation, except the full stop of "a.m."/"p.m."."""
    phrase = phrase.strip().rstrip(",;:— ")
    return phrase if phrase.endswith(("a.m.", "p.m.")) else phrase.rstrip(". ")


def brand_closings(brand, archive: Path | None, words: list[str] | None = None) -> list[str]:
    """Short closing phrases the brand's own copy uses around one of its words ("simple as that"): a
    clause of 2-5 words with a brand word and nothing else but small words, seen at least twice in the
    archive and the profile's sample copy. None without such copy: nothing is made up for a brand."""
    words = [w.lower() for w in (words if words is not None else brand.words_to_use)]
    texts = list(brand.sample_copy) + (_archive_copy(str(archive)) if archive else [])
    found: Counter = Counter()
    for text in texts:
        for clause in _CLAUSE.findall(text):
            clause = " ".join(clause.split()).lower()
            n = len(clause.split())
            rest = clause
            for word in sorted(words, key=len, reverse=True):
                rest = re.sub(rf"\b{re.escape(word)}\b", " ", rest)
            others = rest.split()
            if 2 <= n <= 5 and rest != clause and others and all(w in _SMALL for w in others):
                found[clause] += 1
    return [clause for clause, count in found.most_common(2) if count >= 2]


def _shortened(phrase: str, limit: int) -> list[str]:
    """Starts of `phrase` that stop before a qualifier, of 3+ words and well within `limit` (room for a
    closing), longest first: "Pay in four interest-free installments" of "... with Klarna on orders ..."."""
    cuts = [phrase[: m.start()] for m in _QUALIFIER.finditer(phrase) if m.start() <= limit - 1]
    return [c for c in cuts[::-1] if len(c.split()) >= 3][:2]


def composer(bot, limit: int, sentence: bool = False, closings: bool = True):
    """`compose` for `bot`'s brand (its closings from the archive beside its profile; none for a field
    that needs no brand word, a headline): brief -> lines."""
    closings = brand_closings(bot.brand, archive_beside(getattr(bot.settings, "brand", None))) if closings else []
    return lambda brief: compose(brief, limit, closings, sentence)


def archive_beside(profile: Path | None) -> Path | None:
    """The copy archive beside a brand profile file (or in its directory), if there is one."""
    if profile is None:
        return None
    path = (Path(profile) if Path(profile).is_dir() else Path(profile).parent) / ARCHIVE_NAME
    return path if path.exists() else None


@cache
def _archive_copy(path: str) -> list[str]:
    return [item[f] for item in read_jsonl(Path(path)) for f in COPY_FIELDS if isinstance(item.get(f), str)]
