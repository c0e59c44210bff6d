"""Text fit to show a customer: Markdown, HTML and table debris from sources or drafts reduced to plain
sentences, and no image or link a reader's browser would follow unless the sources carry that link."""

from __future__ import annotations

import re

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>()\[\]\"']+[^\s<>()\[\]\"'.,;:!?]", re.I)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_EMPHASIS = re.compile(r"\*\*|__|~~|`+")
# A single star is emphasis only in a pair ("*this*"): alone it is a wildcard or a footnote ("*.example.net").
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+|^\s*>\s?|^\s*(?:[-*+•]|\d+[.)])\s+(?=\S)", re.M)


def urls_in(text: str) -> set[str]:
    """The URLs `text` carries (Markdown link targets and bare URLs), without a trailing slash."""
    found = {m.group(2) for m in _LINK.finditer(text)} | set(_URL.findall(text)) | set(_AUTOLINK.findall(text))
    return {u.rstrip("/") for u in found}


def shown_text(text: str, allowed_urls: set[str] = frozenset()) -> str:
    """`text` as plain text for a customer: images dropped (their alt text too: a document may plant
    one to make every reader's browser fetch it), a link kept only when its URL is in `allowed_urls`
    (else its words stay and the URL goes), table rows as comma-separated cells, no emphasis, code,
    heading, quote or list markers, no HTML tags, no bare URL the sources do not carry."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: m.group(0) if m.group(2).rstrip("/") in allowed_urls else m.group(1), text)
    text = _AUTOLINK.sub(lambda m: m.group(1) if m.group(1).rstrip("/") in allowed_urls else "", text)
    links = [m.group(0) for m in _LINK.finditer(text)]  # allowed ones: protect them from the steps below
    for i, link in enumerate(links):
        text = text.replace(link, f"\0{i}\0", 1)
    text = _URL.sub(lambda m: m.group(0) if m.group(0).rstrip("/") in allowed_urls else "", text)
    text = _TAG.sub(" ", text)
    lines = [_table_row(line) for line in text.splitlines() if not _TABLE_RULE.match(line)]
    text = _HEADING.sub("", "\n".join(lines))
    text = _ITALIC.sub(r"\1", _EMPHASIS.sub("", text))
    for i, link in enumerate(links):
        text = text.replace(f"\0{i}\0", link)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" +([.,;:!?)])", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def without_images(text: str) -> str:
    """`text` with its Markdown images dropped: for Markdown a page renders from untrusted input (a
    prompt, a draft, a plugin's output), where an image would make every reader's browser fetch it."""
    return _IMAGE.sub("", text)


def _table_row(line: str) -> str:
    """"| Express | $9.95 | next working day |" -> "Express, $9.95, next working day"."""
    if line.count("|") < 2:
        return line
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    return ", ".join(c for c in cells if c)
