"""Copy composed from the brief's own words: lines that cannot be nonsense (every fact in them is the
brief's), in the brand's patterns, offered to best-of-N beside the model's samples and checked alike."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

from botkit.grounding import figures_in
from botkit.jsonl import read_jsonl
from botkit.tasks.copy_checks import misspelled

ARCHIVE_NAME = "copy_archive.jsonl"  # a brand's copy archive sits beside its profile
KINDS = ("subject", "headline", "description", "post", "meta")  # the fields lines are composed for
COPY_FIELDS = ("subject", "headline", "description", "post")
SUBJECT_SHOWN = 50  # characters of a subject line most inboxes show whole (email tools advise 30-50)
_CLAUSE = re.compile(r"[^.,:;!?—]+")
# What may sit beside a brand word in a closing phrase: small words that claim nothing ("simple as that",
# "made simple"); "still built to last" says something of a product, wrong for a payment option.
_SMALL = {"as", "that", "this", "it", "it's", "is", "so", "just", "made", "all", "there", "way"}
# A phrase may stop before one of these and still say something true and whole ("Next-day delivery across
# the US" of "... on orders placed before noon"); the checks still judge the line.
_QUALIFIER = re.compile(r"\s+(?:with|on|for|at|in|from|until|across|via|by|when|if|before|after)\s+")


def compose(brief: str, limit: int, closings: list[str] = (), kind: str = "subject", brand: str = "") -> list[str]:
    """Lines of at most `limit` characters made of the brief's own phrases, best first, for one `KINDS`
    field: the brief; the brief led by its date or time ("Every Saturday at 11 a.m.: the free ..."); what
    follows its colon, led by the topic or alone; its first clause; starts that stop before a qualifier.
    A part of the brief is a line only when it keeps one of the brief's figures (when it has any), so a
    line never drops the offer ("Click-and-collect orders are held" of "... for 14 days"); a bare topic
    ("Our Portsmouth shop") is only a headline. The brand's `closings` ("simple as that",
    `brand_closings`) follow a phrase that states something (a figure, "free", the brief's whole clause),
    as their own sentence in a description or post; a headline takes none, and may be a label: a clause,
    a name without its article or the `brand`'s name ("Descaling Tablets", "12 for $14")."""
    text = _trimmed(" ".join(brief.split()))
    if not text:
        return []
    sentence, headline = kind in ("description", "post", "meta"), kind == "headline"
    figures = _offer_figures(text)
    head, _, rest = text.partition(": ")
    whole = [text] + ([rest] if rest else [])  # the brief's own clauses: each says something as it stands
    led = [*_led_by_time(text), *(_led_by_time(rest) if rest else [])]  # never shortened: the date leads
    led += _led_by_offer(text) if not rest else []  # "$45 a seat: bread-baking classes on Sunday mornings"
    parts = [text, *led[:1], *led[2 if rest else 1:]]
    if rest:
        parts += [*led[1:], rest, *(f"{head}: {cut}" for cut in _shortened(rest, limit - len(head) - 2))]
        first, _, after = rest.partition(", ")
        if after and not _is_list_end(after):  # "try the kettles, toasters and grinders": one list
            parts += [f"{head}: {first}", first]
        if headline:
            parts += [head, *_label_cuts(head, brand)]
    elif len(first := text.split(", ")[0].split()) >= 3 and not _is_list_end(text.partition(", ")[2]):
        parts.append(" ".join(first))  # "The Zephyr 3000 electric kettle" of "..., $129, with a warranty"
        if headline:  # a headline may be a label: "Zephyr Mini travel kettle", "12 for $14"
            parts += [*_label_cuts(" ".join(first), brand), *text.split(", ")[1:]]
    room = limit - 2 - max((len(c) for c in closings), default=0)  # what a phrase may take with a closing
    parts += [cut for p in list(parts) if len(p) > room and p not in led for cut in _shortened(p, limit)]
    # Under a headline that says the start, an ad's body says the rest: "The Kettlebrook warranty" / "No
    # registration, proof of purchase only."
    tails = [*_tails(text), *([rest] if rest else [])] if kind == "description" else []
    parts += tails
    labels = {head, *_label_cuts(head, brand)} if rest else set()
    if not rest and len(text.split(", ")[0].split()) >= 3:
        labels |= {text.split(", ")[0], *_label_cuts(text.split(", ")[0], brand), *text.split(", ")[1:]}
    labels |= {cut for label in list(labels) for cut in _shortened(label, limit)}  # "Our Portsmouth shop"
    if headline:  # the names the brief gives are labels too: "Kettlebrook Circle", "Heron Gooseneck Kettle"
        named = [n for n in _name_runs(text) if n != brand]
        labels |= set(named)
        parts += named
    # The prices the brief lists after a comma are its offer ("..., $89, ..."); one in a qualifier may go
    # ("Pay in four interest-free installments with Klarna" of "... on orders of $100 or more").
    names, marks, prices = _names(text), date_marks(text), _prices(", ".join((rest or text).split(", ")[1:]))
    groups = []  # per part of the brief: its line, bare and with each closing that fits
    for part in dict.fromkeys(_trimmed(p) for p in parts if len(_trimmed(p).split()) >= 2):
        offer = bool(_offer_figures(part) & figures) or bool(re.search(r"\bfree\b", part, re.I))
        # A brief listing a price keeps it: "The Brookside four-slice toaster" of "..., $89, ..." keeps a "four".
        offer = offer and (not prices or bool(prices & _prices(part)))
        # A brief with no figure or date: its topic and the start of what it says ("Mother's Day gifts: the
        # Zephyr 3000") still say it.
        topical = bool(rest) and not figures and not dated(text) and part.startswith(f"{head}: ")
        says = part in whole or part in led or offer and marks <= date_marks(part) or topical
        says = says or part in tails and marks <= date_marks(part)  # its figure may be in the headline above
        # A tail drops the topic on purpose: an ad shows it only under the brief's start (`says_whole`).
        alone = _stands_alone(part, text, rest, names, len(text) < limit, tail=part in tails)
        if says and part not in led and part != text and not alone:
            says = False  # cut after a participle ("gift cards from $25, sent"), or what it is about dropped
        label = headline and part in labels and not _PARTICIPLE.search(part.split()[-1])  # not "... are held"
        if not (says or label) or part.count(": ") > 1:
            continue  # dropped the brief's figures, "free", a date or its subject; a bare topic; "A: B: C"
        part = part[:1].upper() + part[1:]
        bare = f"{part}." if sentence and not part.endswith(".") else part
        fitting = _fitting(closings, part) if closings and not headline and says else []
        # A closing of manner belongs to the sentence ("..., the simple way."); "Simple as that." is its own.
        closed = [f"{bare} {c[:1].upper()}{c[1:]}." if sentence and not c.startswith("the ") else f"{part}, {c}."
                  for c in fitting]
        closed = [line for line in closed if len(line) <= limit]
        turn = len(groups) % len(closed) if closed else 0  # the closings take turns between parts
        group = [bare, *closed[turn:], *closed[:turn]]
        groups.append(group)
    # Each part once before any part again with another ending: asking for three lines gives three shapes of
    # the brief (whole, led by its date, shortened...), not one line with and without "Simple as that."
    lines = [g[depth] for depth in range(max(map(len, groups), default=0)) for g in groups if depth < len(g)]
    return [line for line in dict.fromkeys(lines) if len(line) <= limit]


# Verbs a line of copy commonly opens on as a request ("Pay in four ...", "Order online ..."): such a line
# stands without the brief's topic, and takes a closing of manner ("the simple way").
IMPERATIVES = set("""pay order try send bring join get shop book visit save trade sign pick buy find meet come learn
take make give start swap fix return brew descale call reserve claim earn collect choose discover enjoy explore
keep use upgrade register subscribe recycle taste bake grab treat share""".split())
# Past participles that end a cut clause badly ("gift cards from $25, sent" of "... sent by email").
_PARTICIPLE = re.compile(r"(?:\w{2,}[^e\W]ed|sent|held|made|built|kept|sold|shown|given|done|paid|brought|bought"
                         r"|found|run|set|put|cut|left|known|told|taken)$", re.I)


def _stands_alone(part: str, text: str, rest: str, names: set[str], fits: bool, tail: bool = False) -> bool:
    """Does a part of `text` read whole on its own: not ending on a participle, keeping the figures the
    brief lists after a comma when the whole brief `fits`, and, when it drops the brief's topic (what
    precedes its colon), still naming one of its `names` or opening on a request ("A flat $35 labor fee
    plus parts" of "Repairs after the warranty: ..." does not; "Order online and pick it up free" does; an
    ad's `tail` need not, it goes under the brief's start)."""
    if _PARTICIPLE.search(part.split()[-1]):
        return False
    # A fact the brief lists after a comma stays ("The Zephyr 3000 electric kettle, $129" drops "with a
    # seven-year warranty"); a figure in a clause's own qualifier may go ("... with Klarna on orders of $100").
    # When the whole brief fits, that is: a subject line may be the start of a list ("10% off for students").
    listed = set().union(*(_offer_figures(item) for item in text.partition(": ")[2 if rest else 0].split(", ")[1:]))
    if fits and not listed <= _offer_figures(part):
        return False
    if rest and not tail and not part.lower().startswith(text.partition(": ")[0].lower()):
        said = {w.lower() for w in re.findall(r"[\w'-]+", part)}
        return bool(said & names) or part.split()[0].lower() in IMPERATIVES
    return True


def _name_runs(text: str) -> list[str]:
    """The names of two or more words `text` gives, without a leading article ("Zephyr Mini", "Kettlebrook
    Circle", "Brookside 2-Slice Toaster" of "The Brookside 2-Slice Toaster colors: ..."), but not the items
    of a list of names."""
    found = re.finditer(r"\b[A-Z][\w'-]*(?:\s+(?:[A-Z][\w'-]*|\d[\w-]*))+", text)
    # Not one item of a list of names: "Google Pay" alone of "Apple Pay, Google Pay and PayPal" misleads.
    runs = [m.group() for m in found if not re.match(r"(?:,| and| or) [A-Z]", text[m.end():])
            and not re.search(r"(?:,|\band|\bor) $", text[: m.start()])]
    runs = [" ".join(w for i, w in enumerate(run.split()) if i or w.lower() not in _LOWER_LEAD) for run in runs]
    # A date is no name: "March 20" over "Hot cross buns are back, from March 20 until April 5" says nothing.
    return [run for run in dict.fromkeys(runs) if len(run.split()) >= 2 and not dated(run)]


def _names(text: str) -> set[str]:
    """The words `text` capitalises inside a sentence (names: "Kettlebrook", "Burlington"; not a day or a
    month), lower case."""
    words = re.findall(r"(?<![.:!?]\s)(?<!^)\b[A-Z][\w'-]*", text)
    return {w.lower() for w in words if w != "I" and not date_marks(w)}


def says_whole(brief: str, headline: str, description: str) -> bool:
    """Does an ad of `headline` and `description` say what `brief` says: every date and time of it, and
    every price and percentage, and a description naming none of its names or figures sits under the
    brief's own start ("Kettlebrook gift cards" / "From $25, sent by email the same day"), not under
    another part ("March 14" / "On Saturday, March 14 at 2 p.m.": the workshop is gone)?"""
    ad = f"{headline}. {description}"
    if not date_marks(brief) <= date_marks(ad):
        return False
    if not set(_PRICE.findall(brief)) <= set(_PRICE.findall(ad)):
        return False  # the offer itself: "$25" of "Kettlebrook gift cards / Sent by email the same day"
    named = {w.lower() for w in re.findall(r"[\w'-]+", description)} & _names(brief)
    # A description without the brief's figures ("With a valid student ID ...") sits only under the start
    # that has them ("10% off for students").
    figured = not _offer_figures(brief) or bool(_offer_figures(description) & _offer_figures(brief))
    return bool(named) and figured or plain(brief).startswith(plain(headline))


_PRICE = re.compile(r"\$\d[\d,.]*|\d+(?:\.\d+)?\s?%")  # money and percentages: an offer's figures


def _prices(text: str) -> set[str]:
    """The prices and percentages `text` names ("$89", "15%"), without a comma or full stop after them."""
    return {p.rstrip(",.") for p in _PRICE.findall(text)}


def plain(text: str) -> str:
    """`text` in lower case, without punctuation or a leading article: what "opens on" compares."""
    return re.sub(r"^(?:the|a|an|our) ", "", " ".join(re.findall(r"[\w$%'-]+", text.lower())))


_MONTHS = "january|february|march|april|may(?=\\s+\\d)|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_DATE_MARK = re.compile(rf"\b(?:(?:{_MONTHS})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?|(?:{_DAYS})s?"
                        r"|\d{1,2}(?::\d\d)?\s*[ap]\.m\.|noon|midnight|today|tomorrow|tonight)(?!\w)", re.I)


def date_marks(phrase: str) -> set[str]:
    """The dates, days and times `phrase` names ("december 24", "saturday", "3 p.m."): a shortened line
    keeps them all, or it misstates when ("Every Kettlebrook shop closes at 3 p.m." of "... on December 24")."""
    return {" ".join(m.group().lower().split()) for m in _DATE_MARK.finditer(phrase)}


def _fitting(closings: list[str], part: str) -> list[str]:
    """The `closings` that read well after `part`: none of manner ("..., the simple way"): a blind reader
    found 0 of 11 such lines usable as is, even after a request."""
    return [c for c in closings if not c.startswith("the ")]


def _tails(text: str) -> list[str]:
    """What `text` says after its name or its first words: "$59, dual voltage 110 to 240 volts" of "The
    Zephyr Mini travel kettle, $59, dual voltage ...", "with Klarna on orders of $100 or more" of "Pay in four
    interest-free installments with Klarna on ...": an ad's description under a headline of the start."""
    first, _, after = text.partition(", ")
    tails = [after] if after and len(first.split()) >= 2 and not _is_list_end(after) else []
    if ": " not in text:  # a brief with a topic has its rest as a description already
        tails += [tail for m in _QUALIFIER.finditer(text) if len(text[: m.start()].split()) >= 3
                  and len((tail := text[m.start():].strip()).split()) >= 4
                  and tail.split()[0] in ("with", "on", "from", "until", "across")]  # not "for the Zephyr"
    return tails


def _label_cuts(phrase: str, brand: str) -> list[str]:
    """`phrase` without a leading article or possessive ("Zephyr Mini travel kettle"), or without the
    `brand`'s name before a name ("Descaling Tablets" of "Kettlebrook Descaling Tablets")."""
    words = phrase.split()
    if len(words) < 3:
        return []
    if words[0].lower() in _LOWER_LEAD:
        return [" ".join(words[1:])]
    named = brand and words[0] == brand and words[1][:1].isupper() and "," not in phrase  # not "Kettlebrook Circle,"
    return [" ".join(words[1:])] if named else []


def dated(phrase: str) -> bool:
    """Does `phrase` name a day, a date or a time of day ("Saturday", "April 30", "11 a.m.")?"""
    return bool(set(re.findall(r"[a-z]+(?:\.m\.)?", phrase.lower())) & _DATE_WORDS)


def _offer_figures(phrase: str) -> set[float]:
    """The figures of `phrase` that are not part of a name ("$129", "ten years"; not the 3000 of "Zephyr 3000")."""
    return figures_in(re.sub(r"\b[A-Z][\w'-]*\s+\d[\w-]*", " ", phrase))


# A date or time a brief ends on, worth leading with: "every Saturday at 11 a.m.", "from October 1".
_TIME_WORDS = set("""every each from until till on at by before after to and or through of the a.m. p.m. noon
midnight monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays fridays
saturdays sundays weekday weekdays weekend weekends january february march april may june july august september
october november december today tomorrow tonight week month year""".split())
_DATE_WORDS = _TIME_WORDS - {"every", "each", "from", "until", "till", "on", "at", "by", "before", "after", "to", "and",
                             "or", "through", "of", "the", "week", "month", "year"}
_TIME_START = re.compile(r"(?:^|\s|,\s)(?=(?:every|from|until|on|at|by|before|after)\s)", re.I)


def _led_by_time(phrase: str) -> list[str]:
    """`phrase` led by the date or time it ends on ("From October 1: the Heron Gooseneck Kettle now comes
    in matte black"), when it ends on one after a whole clause; [] otherwise."""
    for m in _TIME_START.finditer(phrase):
        body, tail = phrase[: m.start()].rstrip(" ,"), phrase[m.end():].strip()
        words = re.findall(r"[\w.:]+", tail.lower())
        timed = figures_in(tail) or dated(tail)
        if not timed or not all(w in _TIME_WORDS or re.fullmatch(r"[\d:.,%]+(?:st|nd|rd|th)?", w) for w in words):
            continue
        last = [w.lower() for w in body.split()[-3:]]
        # The body must end whole: not mid-clause ("... and stays closed"), not on a participle ("orders placed"),
        # not on a word that wants what followed ("on the first Saturday of"); and the date must not be split
        # ("From 9:30 a.m.: our shop, open Monday to Saturday" leaves half of it behind).
        if (len(body.split()) < 3 or "and" in last or "or" in last or last[-1].endswith("ed")
                or last[-1] in _OPEN_ENDS or dated(body)):
            return []
        return [f"{tail[:1].upper()}{tail[1:]}: {_lower_first(body)}"]
    return []


def _led_by_offer(text: str) -> list[str]:
    """`text` led by the price it lists after a comma ("$45 a seat: bread-baking classes on Sunday mornings" of
    "Bread-baking classes on Sunday mornings, $45 a seat"): the offer first, as email tools advise; [] when
    it lists none of 2-4 words, or lists more (a list keeps its order)."""
    items = text.split(", ")
    if len(items) < 2 or _is_list_end(text.partition(", ")[2]):
        return []
    offers = [item for item in items[1:] if _PRICE.search(item) and 2 <= len(item.split()) <= 4 and not dated(item)]
    if len(offers) != 1 or len(items[0].split()) < 3:
        return []
    body = ", ".join(item for item in items if item != offers[0])
    return [f"{offers[0][:1].upper()}{offers[0][1:]}: {_lower_first(body)}"]


def _lower_first(body: str) -> str:
    """`body` with its first word in lower case when that word only starts a sentence ("the Zephyr...",
    "day-old bread"), not a name ("Kettlebrook gift cards", "Zephyr 3000", "Heron Gooseneck Kettle")."""
    words = body.split()
    first = words[0]
    if first.lower() in _LOWER_LEAD:
        return body[:1].lower() + body[1:]
    named = len(words) > 1 and (words[1][:1].isupper() or words[1][:1].isdigit())
    if named or first.lower() in _names(body) or misspelled(first):  # not a dictionary word: a name
        return body
    return body[:1].lower() + body[1:]


_OPEN_ENDS = {"of", "in", "on", "at", "to", "for", "from", "with", "by", "the", "a", "an", "first", "last", "next",
              "every", "each"}
_LOWER_LEAD = {"the", "our", "a", "an", "every", "any", "all", "your", "each", "this", "these"}


def _is_list_end(after: str) -> bool:
    """Is what follows a comma the rest of a list ("base, filter, guide and a descaling tablet")?"""
    return bool(re.search(r"\b(?:and|or)\b", after.split(", ")[-1]))


def _trimmed(phrase: str) -> str:
    """`phrase` without trailing punctuation, except the full stop of "a.m."/"p.m."."""
    phrase = phrase.strip().rstrip(",;:— ")
    return phrase if phrase.endswith(("a.m.", "p.m.")) else phrase.rstrip(". ")


def brand_closings(brand, archive: Path | None, words: list[str] | None = None) -> list[str]:
    """Short closing phrases the brand's own copy uses after one of its words ("simple as that"): a
    clause of 2-5 words that starts with a brand word and has nothing else but small words, seen at least
    twice in the archive and the profile's sample copy, or led by "the" ("the simple way"); the three most
    used. None without such copy: nothing is made up for a brand. ("made simple" is left out: after a
    name or a place it reads as nonsense, "Our Portsmouth shop, made simple".)"""
    words = [w.lower() for w in (words if words is not None else brand.words_to_use)]
    texts = list(brand.sample_copy) + (_archive_copy(str(archive)) if archive else [])
    found: Counter = Counter()
    for text in texts:
        for clause in _CLAUSE.findall(text):
            clause = " ".join(clause.split()).lower()
            n = len(clause.split())
            rest = re.sub(r"^the ", " ", clause)  # "the simple way": led by a brand word after its article
            for word in sorted(words, key=len, reverse=True):
                rest = re.sub(rf"\b{re.escape(word)}\b", " ", rest)
            others = rest.split()
            leads = any(clause.startswith((f"{w} ", f"the {w} ")) for w in words)
            if 2 <= n <= 5 and leads and others and all(w in _SMALL for w in others):
                found[clause] += 1
    return [clause for clause, count in found.most_common(3) if count >= 2]


def _shortened(phrase: str, limit: int) -> list[str]:
    """Starts of `phrase` that stop before a qualifier, of 3+ words and well within `limit` (room for a
    closing), longest first: "Pay in four interest-free installments" of "... with Klarna on orders ..."."""
    cuts = [phrase[: m.start()] for m in _QUALIFIER.finditer(phrase) if m.start() <= limit - 1]
    # Not mid-clause: "... closes at 3 p.m. on December 24 and stays closed" of "... closed on December 25".
    return [c for c in cuts[::-1] if len(c.split()) >= 3 and not {"and", "or"} & set(c.split()[-3:])][:2]


def composer(bot, limit: int, kind: str = "subject"):
    """`compose` for `bot`'s brand and one field `kind` (its closings from the archive beside its
    profile; a meta description, which search results show whole, may also end on the brand's tagline):
    brief -> lines."""
    # A headline or a subject line takes none: 60 characters have no room for one, and the From field already
    # names the brand (a subject line says the offer; the inbox shows its first 35-50 characters).
    closings = [] if kind in ("headline", "subject") else brand_closings(bot.brand, bot_archive(bot))
    # A post may sign off with the tagline too: the brand's own line, for a brand with no closings in its copy.
    tagline = (bot.brand.tagline or "").strip() if kind in ("meta", "post") else ""

    def lines(brief: str) -> list[str]:
        found = compose(brief, limit, closings, kind, bot.brand.name)
        if kind == "subject":  # what an inbox shows whole first, in the composer's order otherwise
            found.sort(key=lambda line: len(line) > SUBJECT_SHOWN)
        # Never two sign-offs: a blind reader marked "... Simple as that. Good things, brought to the boil." light.
        signed = [line for line in found if not any(c in line.lower() for c in closings)]
        found += [f"{line} {tagline}" for line in signed if tagline and len(line) + len(tagline) < limit]
        return found

    return lines


def archive_beside(profile: Path | None) -> Path | None:
    """The copy archive beside a brand profile file (or in its directory), if there is one."""
    if profile is None:
        return None
    path = (Path(profile) if Path(profile).is_dir() else Path(profile).parent) / ARCHIVE_NAME
    return path if path.exists() else None


def bot_archive(bot) -> Path | None:
    """The copy archive beside `bot`'s brand profile, if there is one."""
    return archive_beside(getattr(bot.settings, "brand", None))


def archive_hashtags(brand, archive: Path | None) -> list[str]:
    """The hashtags the brand's own copy uses (its archive and sample copy), most used first: tags a
    person follows ("#tea", "#giftcard"), for posts to reuse where they fit."""
    texts = list(brand.sample_copy) + (_archive_copy(str(archive)) if archive else [])
    found = Counter(tag.lower() for text in texts for tag in re.findall(r"#[A-Za-z]\w*", text))
    return [tag for tag, _ in found.most_common()]


@cache
def _archive_copy(path: str) -> list[str]:
    return [item[f] for item in read_jsonl(Path(path)) for f in COPY_FIELDS if isinstance(item.get(f), str)]
