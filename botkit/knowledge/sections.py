"""A document as loaders hand it to the chunker: sections (a heading path and its units of clean text),
with the rules every format shares: table rows as sentences, titles, and the structure of plain text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A unit this long (characters) is prose, not a heading, whatever its case.
_MAX_HEADING = 80
# A bullet, a list number or letter ("b)", "(b)", "(iv)") or a clause number ("2.3 Sharps must go in ...", never
# "2.1 metres" or "2.5 Gbps").
_BULLET = re.compile(r"^\s*(?:[-*•▪◦‣+]|\d{1,3}[.)]|[a-z][.)]|\((?:[a-z]|[ivx]{1,4}|\d{1,2})\)"
                     r"|\d{1,2}(?:\.\d{1,2})+(?=\s+[A-Z][a-z]+\b)(?!\s+[GMKT]?(?:bps|Hz)\b))\s+")
# The first clause of a numbered section ("1.1 Rent is payable ..." under "1. Rent").
_CLAUSE = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})+\s")
_SETEXT = re.compile(r"^\s*(=+|-+)\s*$")
_ATX = re.compile(r"^\s*(#{1,6})\s+(.+?)\s*#*\s*$")
# "=== 2025-26 SCHEME (SUPERSEDED) ===": a heading framed on its own line.
_FRAMED = re.compile(r"^\s*([=*~-])\1{2,}\s*(\S.*?)\s*\1{3,}\s*$")
# A heading set off by a rule above it may run to two lines ("VERSION 3 - PREVIOUS - in force ..." over
# "(kept for complaints ...)"): longer than a heading in running text.
_MAX_SET_OFF = 160
_SENTENCE_END = (".", "!", "?", ":", ";")
_QUESTION_KEYS = ("question", "q", "prompt", "input")
_ANSWER_KEYS = ("answer", "a", "response", "output")
# Markup that survives in plain text (or is spelled out in a document's text) and would render in an answer.
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]{0,500}\](?:\([^)]{0,2000}\)|\[[^\]]{0,500}\])")
_MARKDOWN_LINK = re.compile(r"(?<!!)\[([^\]]{1,500})\](?:\([^)]{0,2000}\)|\[[^\]]{0,500}\])")
_LINK_DEFINITION = re.compile(r"^\s*\[[^\]]{1,500}\]:\s+<?(?:[a-z][a-z0-9+.-]*:|www\.|/)\S*(?:\s+[\"'(].*)?$", re.I)
_HTML_TAG = re.compile(  # real tag names only: "<Ctrl>" in a shortcut list is text
    r"</?(?:a|abbr|audio|b|blockquote|body|br|button|code|div|em|embed|font|form|h[1-6]|head|hr|html|i|iframe|img"
    r"|image|input|kbd|li|link|meta|object|ol|p|picture|pre|script|small|source|span|strong|style|sub|sup|svg"
    r"|table|td|th|title|tr|u|ul|video)(?:\s[^<>]{0,2000})?/?>", re.IGNORECASE)
_AUTOLINK = re.compile(r"<[a-z][a-z0-9+.-]{0,30}://[^<>\s]{0,2000}>", re.IGNORECASE)  # dropped, as in Markdown
_MAIL_AUTOLINK = re.compile(r"<(?:mailto:)?([^<>\s@]{1,200}@[^<>\s]{1,300})>")  # kept: an address to write to
_EMPHASIS = re.compile(r"(\*\*|__|`)(?=\S)(.{1,300}?)(?<=\S)\1")
_ACRONYMS = {"faq": "FAQ", "faqs": "FAQs"}
_LABEL_LEVEL = 7  # below every real heading level
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}


@dataclass
class Section:
    """Units of one section, in order. `path` runs from the document's title down to this section's heading."""

    path: tuple[str, ...]
    units: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The citation title: "Shipping › Canada". Deep paths keep the document and the last two headings."""
        path = self.path if len(self.path) <= 3 else (self.path[0], *self.path[-2:])
        return " › ".join(path)


class SectionWriter:
    """Collects units under the current heading path, for parsers that walk a document in order."""

    def __init__(self, document_title: str):
        self.document_title = document_title
        self.sections: list[Section] = []
        self._headings: list[tuple[int, str]] = []

    @property
    def path(self) -> tuple[str, ...]:
        texts = [text for _, text in self._headings]
        if not texts or (self._headings[0][0] > 1 and texts[0] != self.document_title):
            texts.insert(0, self.document_title)  # sections under no level-1 heading name their document
        return tuple(texts)

    def heading(self, level: int, text: str) -> None:
        text = tidy(text)
        if not text:
            return
        while self._headings and self._headings[-1][0] >= level:
            self._headings.pop()
        self._headings.append((level, text))

    def label(self, text: str) -> None:
        """A short bold line standing for a heading ("**Fixed**"): under the current heading, replacing
        the previous such label."""
        self.heading(_LABEL_LEVEL, text.rstrip(":"))

    def unit(self, text: str, path: tuple[str, ...] | None = None) -> None:
        text = tidy(text)
        if not text:
            return
        path = path or self.path
        if self.sections and self.sections[-1].path == path:
            self.sections[-1].units.append(text)
        else:
            self.sections.append(Section(path, [text]))


def tidy(text: str) -> str:
    """One line of plain text: markup that would render in an answer removed (images with their address,
    <https://...> autolinks, link and HTML tags; link text and e-mail addresses kept), whitespace collapsed."""
    if _LINK_DEFINITION.match(text):
        return ""
    text = _MARKDOWN_IMAGE.sub("", text)
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub("", text)
    text = _MAIL_AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([.,;:!?)])(?=\s|$)", r"\1", text)


def title_from_name(stem: str) -> str:
    """A readable title from a file name: "safety-notices" -> "Safety notices", "faq" -> "FAQ"."""
    words = stem.replace("_", " ").replace("-", " ").split()
    words = [_ACRONYMS.get(w.lower(), w) for w in words]
    return " ".join(words)[:1].upper() + " ".join(words)[1:] if words else stem


def readable_heading(text: str) -> str:
    """An all-caps heading ("GENERAL SAFETY") in title case, which reads better in a citation."""
    if not (text.isupper() and len(re.findall(r"[A-Z]", text)) > 3):
        return text
    words = text.lower().split()
    return " ".join(w if i and w in _SMALL_WORDS else re.sub(r"[a-z]", lambda m: m[0].upper(), w, count=1)
                    for i, w in enumerate(words))


def row_unit(headers: list[str], cells: list[str]) -> str:
    """One table row as a self-contained line: its first cell as the label, then each other cell,
    with its column header when the header adds meaning ("Express: Price: $14.95, 1 to 2 business days")."""
    cells = [tidy(c) for c in cells]
    headers = [tidy(h) for h in headers] + [""] * (len(cells) - len(headers))
    if not any(cells):
        return ""
    filled = [_unit_to_value(h, c) for h, c in zip(headers, cells) if c]
    if len(filled) == 1:
        header, cell = filled[0]
        return f"{header}: {cell}" if _header_adds(header, cell) else cell
    label, rest = cells[0], [_unit_to_value(h, c) for h, c in zip(headers[1:], cells[1:]) if c]
    if label and len(rest) > 1 and len({c.lower() for _, c in rest}) == 1 and all(h for h, _ in rest):
        # The same value in every column is said once: "Web app: Not available (Free; Plus, Pro and Team)".
        return f"{label}: {rest[0][1]} ({'; '.join(h for h, _ in rest)})"
    parts = [f"{h}: {c}" if _header_adds(h, c) else c for h, c in rest]
    joined = ("; " if any("," in c for _, c in rest) else ", ").join(parts)  # "Email, chat; Reply: 1 day"
    return f"{label}: {joined}" if label else joined


_HEADER_UNIT = re.compile(r"^(.*?\S)\s*\(([^()\d]{1,12})\)$")  # "Price (€)", "Duration (minutes)"
_NUMBER = re.compile(r"^[-+]?\d[\d,.]*$")
_CURRENCY = {"€", "$", "£", "¥", "₹", "eur", "usd", "gbp", "cad", "aud", "chf"}


def _unit_to_value(header: str, cell: str) -> tuple[str, str]:
    """A bare number under a header that names its unit reads with it: ("Standard fee (€)", "85") ->
    ("Standard fee", "€85"); ("Duration (minutes)", "30") -> ("Duration", "30 minutes")."""
    match = _HEADER_UNIT.match(header)
    if not match or not _NUMBER.match(cell):
        return header, cell
    name, unit = match.group(1), match.group(2).strip()
    if unit.lower() not in _CURRENCY:
        return name, f"{cell} {unit}"
    return name, f"{unit}{cell}" if len(unit) == 1 else f"{unit.upper()} {cell}"


def header_row(rows: list[list[str]]) -> int:
    """Where a sheet's table starts: the first row of two or more labels (no bare numbers) with a row
    below it; the rows above it are a title or note ("Price list, fees from 1 January"). 0 when none is."""
    for i, row in enumerate(rows[:-1]):
        filled = [c for c in row if c]
        if len(filled) >= 2 and not any(_NUMBER.match(c) for c in filled):
            return i
    return 0


def _header_adds(header: str, cell: str) -> bool:
    # A long sentence explains itself; a short cell ("$4.95", "Yes", "2") means nothing without its column,
    # and nor does a long list or phrase ("Closed": "Every Wednesday and Thursday, and 25 and 26 December").
    sentence = len(cell.split()) > 10 and cell.rstrip().endswith((".", "!", "?"))
    return bool(header) and header.lower() not in cell.lower() and not sentence


def table_units(rows: list[list[str]], header_rows: int) -> list[str]:
    """Row sentences of a table whose first `header_rows` rows are headers (0: a table without headers),
    after the list of its rows when there is one (`list_unit`)."""
    headers = rows[header_rows - 1] if header_rows else []
    units = [u for u in (row_unit(headers, r) for r in rows[header_rows:]) if u]
    listed = list_unit(headers, rows[header_rows:])
    return [listed, *units] if listed else units


def list_unit(headers: list[str], rows: list[list[str]]) -> str:
    """The table's first column as one line under its header ("Role: Viewer, Commenter, Editor and Owner"):
    a question for the whole list ("What roles are there?") finds it in one unit, not one row of it. Only
    for three rows or more labelled by short names, not figures."""
    header = tidy(headers[0]) if headers else ""
    labels = [tidy(r[0]) for r in rows if r and tidy(r[0])]
    if not header or len(labels) < 3 or len(set(labels)) < len(labels):
        return ""
    if any(len(label.split()) > 5 or re.search(r"\d", label) for label in labels):
        return ""
    return f"{header}: {', '.join(labels[:-1])} and {labels[-1]}"


def guess_header_rows(rows: list[list[str]]) -> int:
    """1 when a table without marked headers starts with a row of short labels ("Plan", "Price"), else 0."""
    if len(rows) < 2 or not rows[0]:
        return 0
    labels = rows[0]
    return int(all(c and len(c.split()) <= 4 and not re.search(r"\d", c) for c in labels))


def qa_columns(keys) -> tuple[str, str] | None:
    """The question and answer column names among `keys` ("Question", "answer", "q"...), if both are there."""
    named = {str(k).lower().strip(): k for k in keys if k}
    question = next((named[k] for k in _QUESTION_KEYS if k in named), None)
    answer = next((named[k] for k in _ANSWER_KEYS if k in named), None)
    return (question, answer) if question and answer else None


def qa_sections(rows: list[dict], columns: tuple[str, str], document_title: str) -> list[Section]:
    """One section per answered pair, "Q: ...\nA: ...", titled by the file, never by its question."""
    question, answer = columns
    pairs = [(tidy(str(r.get(question) or "")), tidy(str(r.get(answer) or ""))) for r in rows]
    return [Section((document_title,), [f"Q: {q}\nA: {a}"]) for q, a in pairs if a]


def plain_text_sections(text: str, document_title: str) -> list[Section]:
    """Structure of a plain-text file: headings (a title line, ALL-CAPS lines, numbered or not, underlined
    lines, "# " lines), paragraphs (hard-wrapped lines joined) and bullet or numbered items, one unit each."""
    writer = SectionWriter(document_title)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraph: list[str] = []
    indent, item = 0, False

    def flush() -> None:
        if paragraph:
            writer.unit(" ".join(paragraph))
            paragraph.clear()

    first_text = next((i for i, line in enumerate(lines) if line.strip()), None)
    last_text = max((i for i, line in enumerate(lines) if line.strip()), default=None)
    after_rule, set_off_level, skip = False, 2, 0
    for i, raw in enumerate(lines):
        if skip:
            skip -= 1
            continue
        line = tidy(raw)
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if not line or _SETEXT.match(line):  # a blank line, a heading's underline or a rule ends a paragraph
            flush()
            after_rule = after_rule or bool(line)
            continue
        atx = _ATX.match(line)
        framed = _FRAMED.match(line)
        bare = _BULLET.sub("", line, count=1)
        set_off = after_rule and not paragraph and _set_off_heading(lines, i)
        after_rule = False
        if atx:
            flush()
            writer.heading(len(atx.group(1)), atx.group(2))
        elif framed:
            flush()
            writer.heading(set_off_level, framed.group(2))
        elif not paragraph and _SETEXT.match(following) and len(line) <= _MAX_HEADING:
            flush()
            set_off_level = 1 if following.strip().startswith("=") else 2
            writer.heading(set_off_level, line)
        elif set_off:
            # A version of a policy under a rule ("Version 2 - SUPERSEDED - effective ..."): its sections are
            # cited, and ranked, under that title, not under the version before it.
            writer.heading(set_off_level, " ".join(set_off))
            skip = len(set_off) - 1
        elif not paragraph and bare == line and i != first_text and _heads_numbered_sections(lines, i):
            # "PREVIOUS POLICY - effective from 1 June 2024 ..." over "1. Consultations": a version of the terms
            writer.heading(set_off_level, line)
        elif (bare == line or line[0].isdigit()) and _is_heading_line(bare, following, i == first_text != last_text):
            flush()
            writer.heading(1 if i == first_text else 2, readable_heading(bare))
        elif bare != line and line[0].isdigit() and _is_label(bare) and (
                _CLAUSE.match(following) or _is_topic_line(bare, following)):
            flush()  # "1. Rent" over its clauses or a paragraph: their heading, under the version of the terms
            writer.heading(set_off_level + 1, bare)
        elif bare != line:
            flush()
            paragraph.append(bare)
            item = True
        elif not paragraph and i != first_text and _is_topic_line(line, following):
            writer.label(line)
        elif len(paragraph) == 1 and not item and _is_label(paragraph[0]) and _indent(raw) > indent \
                and line[:1].isupper():
            paragraph[0] += ":"  # "E-101  Storage full" over an indented explanation
            paragraph.append(line)
        elif paragraph and _continues(paragraph[-1], line):
            paragraph.append(line)
        else:
            flush()
            paragraph.append(line)
        if len(paragraph) == 1:
            indent, item = _indent(raw), bare != line
    flush()
    return writer.sections


def _set_off_heading(lines: list[str], i: int) -> list[str]:
    """The heading that starts at line `i` just under a rule: one or two short lines, no sentence, that a
    blank line or another rule ends; none when the text there is a paragraph."""
    block = []
    for raw in lines[i:i + 3]:
        if not raw.strip() or _SETEXT.match(raw.strip()):
            break
        block.append(tidy(raw))
    else:
        return []
    text = " ".join(block)
    if not block or len(text) > _MAX_SET_OFF or text.endswith(_SENTENCE_END) or _BULLET.match(block[0]):
        return []
    return block


def _heads_numbered_sections(lines: list[str], i: int) -> bool:
    """Is line `i` a line of its own, not a sentence nor a "Last updated: ..." label, over a numbered section
    title ("1. Rent")?"""
    line = tidy(lines[i])
    if len(line) > _MAX_SET_OFF or line.endswith(_SENTENCE_END) or ": " in line or i + 1 >= len(lines) \
            or lines[i + 1].strip():
        return False
    following = next((tidy(raw) for raw in lines[i + 1:] if raw.strip()), "")
    return bool(re.match(r"\d{1,2}[.)]\s", following)) and _is_label(_BULLET.sub("", following, count=1))


def _indent(raw: str) -> int:
    return len(raw) - len(raw.lstrip())


def _is_label(line: str) -> bool:
    return len(line.split()) <= 8 and not line.endswith(_SENTENCE_END)


def is_label_text(text: str) -> bool:
    """Short, and not a sentence: a bold line that reads as a heading ("Fixed", "Returns:")."""
    return 0 < len(text.split()) <= 8 and not text.endswith((".", "!", "?", ";"))


def _is_heading_line(line: str, following: str, first: bool) -> bool:
    if len(line) > _MAX_HEADING:
        return False
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 3 and all(c.isupper() for c in letters) and not line.endswith((".", ";")):
        return True  # "GENERAL SAFETY", "6. STILL STUCK?"
    # A short first line standing alone is the document's title.
    return first and not line.endswith(_SENTENCE_END) and not following.strip() and len(line.split()) <= 12


def _is_topic_line(line: str, following: str) -> bool:
    """A short line without punctuation over a sentence ("The home-screen widget is blank")."""
    following = following.strip()
    return (len(line.split()) <= 10 and not re.search(r"[.!?:;,]$|:", line) and following[:1].isupper()
            and len(following) > len(line) and not _BULLET.match(following))


def _continues(previous: str, line: str) -> bool:
    """A hard-wrapped line continues the paragraph; a line after a finished sentence starts a new unit."""
    return not previous.endswith(_SENTENCE_END) or line[:1].islower()
