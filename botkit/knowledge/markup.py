"""Markdown and HTML read into sections of clean units: headings give the path, paragraphs and list items
are units, table rows become sentences; emphasis, code ticks and link markup are dropped (link text kept),
images and link targets removed, so a document can never plant a link or an image in a quoted answer."""

from __future__ import annotations

import re

from botkit.knowledge.sections import Section, SectionWriter, guess_header_rows, is_label_text, table_units, tidy

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n(?:---|\.\.\.)\s*\n", re.DOTALL)
_HTML_TITLE_SEPARATORS = re.compile(r"\s+[|·–—-]\s+")

# Elements whose text is never document content.
_DROPPED = {"script", "style", "nav", "footer", "aside", "noscript", "template", "svg", "canvas", "iframe", "object",
            "img", "picture", "video", "audio", "map", "form", "button", "select", "input", "textarea", "head"}
_INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins", "kbd",
           "label", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u",
           "var", "wbr"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


def markdown_sections(text: str, document_title: str) -> list[Section]:
    from markdown_it import MarkdownIt  # deferred like every parser here: only ingesting such a file needs it

    front = _FRONT_MATTER.match(text)
    if front:
        text = text[front.end():]
        declared = re.search(r"^title:\s*['\"]?(.+?)['\"]?\s*$", front.group(1), re.MULTILINE)
        document_title = declared.group(1) if declared else document_title
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text)
    writer = SectionWriter(document_title)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            writer.heading(int(token.tag[1]), _inline(tokens[i + 1]))
            i += 2
        elif token.type == "table_open":
            end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
            _markdown_table(tokens[i:end], writer)
            i = end
        elif token.type == "inline":  # a paragraph, in the body, a list item or a quote
            if tokens[i - 1].type == "paragraph_open" and tokens[i - 1].level == 0 and _bold_only(token):
                writer.label(_inline(token))
            else:
                for line in _inline_lines(token):
                    writer.unit(line)
        elif token.type in ("fence", "code_block"):
            writer.unit(token.content)
        elif token.type == "html_block":
            _walk_html(_soup(token.content), writer)
        i += 1
    return writer.sections


def _markdown_table(tokens, writer: SectionWriter) -> None:
    rows, header_rows, in_head = [], 0, False
    for token in tokens:
        if token.type in ("thead_open", "thead_close"):
            in_head = token.type == "thead_open"
        elif token.type == "tr_open":
            rows.append([])
            header_rows += in_head
        elif token.type == "inline":
            rows[-1].append(_inline(token))
    for unit in table_units(rows, header_rows):
        writer.unit(unit)


def _inline_lines(token) -> list[str]:
    """The token's text without markup, split at hard line breaks (like HTML's <br>)."""
    lines, parts, in_autolink = [], [], False
    for child in token.children or []:
        kind = child.type
        if kind == "link_open":
            # An autolink's text is the URL itself: keep a visible e-mail address, drop a web address.
            href = str(child.attrs.get("href", ""))
            in_autolink = child.markup in ("autolink", "linkify") and not href.startswith("mailto:")
        elif kind == "link_close":
            in_autolink = False
        elif kind in ("text", "code_inline") and not in_autolink:
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak" or (kind == "html_inline" and re.match(r"<br\b", child.content, re.I)):
            lines.append("".join(parts))
            parts = []
        # images (alt text too), emphasis markers and other inline HTML tags are dropped
    lines.append("".join(parts))
    return [tidy(line) for line in lines if tidy(line)]


def _bold_only(token) -> bool:
    """A paragraph that is one short bold phrase ("**Fixed**") stands for a heading."""
    kinds = [c.type for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    return (len(kinds) == 3 and kinds[0] == "strong_open" and kinds[2] == "strong_close"
            and is_label_text(_inline(token)))


def _inline(token) -> str:
    return " ".join(_inline_lines(token))


def html_sections(html: str, document_title: str) -> list[Section]:
    soup = _soup(html)
    h1 = soup.find("h1")
    if h1 is not None and _text(h1):
        document_title = _text(h1)
    elif soup.title is not None and soup.title.get_text(strip=True):
        # "Plans and pricing | Help Centre": the page's own name, not the site's
        document_title = _HTML_TITLE_SEPARATORS.split(soup.title.get_text(strip=True))[0]
    writer = SectionWriter(document_title)
    _walk_html(soup.body or soup, writer)
    return writer.sections


def _soup(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def _walk_html(root, writer: SectionWriter) -> None:
    """Depth first: inline content gathers into the current unit; a block element ends it."""
    from bs4 import Comment, NavigableString, Tag
    from bs4.element import CData, Declaration, Doctype, ProcessingInstruction

    buffer: list[str] = []

    def flush() -> None:
        writer.unit("".join(buffer))
        buffer.clear()

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Doctype, Declaration, ProcessingInstruction, CData)):
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in _DROPPED:
                continue
            if name == "header":
                # A site header's links are chrome; a heading inside it is the page's own.
                for heading in child.find_all(list(_HEADINGS)):
                    flush()
                    writer.heading(_HEADINGS[heading.name], _text(heading))
            elif name == "br":
                flush()
            elif name in _HEADINGS:
                flush()
                writer.heading(_HEADINGS[name], _text(child))
            elif name == "table" and not child.find("table"):
                flush()
                _html_table(child, writer)
            elif name == "dt":
                flush()
                buffer.append(_text(child) + ": ")  # the term leads its definition's unit
            elif name == "dd":
                walk(child)
                flush()
            elif name in _INLINE:
                walk(child)
            elif name in ("p", "div") and _bold_only_tag(child):
                flush()
                writer.label(_text(child))
            else:  # a block: p, li, div, section, blockquote, pre, td of a layout table ...
                flush()
                walk(child)
                flush()

    walk(root)
    flush()


def _text(tag) -> str:
    """A tag's visible text, with images, scripts and other dropped elements left out."""
    from bs4 import Comment, NavigableString

    parts = []
    for piece in tag.descendants:
        if isinstance(piece, NavigableString) and not isinstance(piece, Comment) and not _inside_dropped(piece, tag):
            parts.append(str(piece))
        elif getattr(piece, "name", None) == "br":
            parts.append(" ")
    return tidy("".join(parts))


def _bold_only_tag(tag) -> bool:
    children = [c for c in tag.children if not (isinstance(c, str) and not c.strip())]
    return (len(children) == 1 and getattr(children[0], "name", None) in ("strong", "b")
            and is_label_text(_text(tag)))


def _inside_dropped(piece, root) -> bool:
    parent = piece.parent
    while parent is not None and parent is not root:
        if parent.name in _DROPPED:
            return True
        parent = parent.parent
    return False


def _html_table(table, writer: SectionWriter) -> None:
    rows, header_rows = [], 0
    for tr in table.find_all("tr"):
        cells = []
        for cell in tr.find_all(["td", "th"], recursive=False):
            span = int(cell.get("colspan", 1)) if str(cell.get("colspan", "1")).isdigit() else 1
            cells.extend([_text(cell)] * max(1, min(span, 20)))
        if not cells:
            continue
        is_header = tr.find_parent("thead") is not None or all(
            c.name == "th" for c in tr.find_all(["td", "th"], recursive=False))
        header_rows += is_header and header_rows == len(rows)
        rows.append(cells)
    caption = table.find("caption")
    path = writer.path + ((_text(caption),) if caption is not None and _text(caption) else ())
    for unit in table_units(rows, header_rows or guess_header_rows(rows)):
        writer.unit(unit, path)
