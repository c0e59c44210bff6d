"""Read a file into sections of clean text units: Markdown, HTML, plain text, PDF, Word, Excel, and CSV/JSONL
question-answer pairs (a CSV without question/answer columns is a table). Each file type is a loader
registered through the `register_document_loaders` hook, so a plugin can add a type or replace one of these."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from botkit.errors import BotkitError
from botkit.hookspecs import hookimpl
from botkit.jsonl import parse_jsonl
from botkit.knowledge.markup import html_sections, markdown_sections
from botkit.knowledge.office import docx_sections, xlsx_sections
from botkit.knowledge.sections import (
    Section,
    plain_text_sections,
    qa_columns,
    qa_sections,
    table_units,
    title_from_name,
)
from botkit.plugins import get_document_loaders


def supported_suffixes() -> set[str]:
    """The file suffixes some loader reads (".md", ".pdf", ...)."""
    return set(get_document_loaders())


def load_sections(path: Path) -> list[Section]:
    """Return the file's sections, each a heading path and its units of clean text.

    A loader may return `Section`s or plain strings (a plugin's); a string is read as plain text, or as
    one question-answer pair when it is "Q: ...\\nA: ...". Raises BotkitError for empty, binary or
    unreadable files.
    """
    loaders = get_document_loaders()
    suffix = path.suffix.lower()
    if suffix not in loaders:
        raise BotkitError(f"{path}: unsupported file type '{suffix}' (supported: {', '.join(sorted(loaders))})")
    if path.stat().st_size == 0:
        raise BotkitError(f"{path}: file is empty")
    title = title_from_name(path.stem)
    sections = []
    for item in loaders[suffix](path):
        if isinstance(item, Section):
            sections.append(item)
        elif item and item.strip().startswith("Q:") and "\nA:" in item:
            q, _, a = item.strip()[2:].partition("\nA:")
            sections.extend(qa_sections([{"q": q, "a": a}], ("q", "a"), title))
        elif item and item.strip():
            sections.extend(plain_text_sections(item, title))
    sections = [s for s in sections if any(u.strip() for u in s.units)]
    if not sections:
        raise BotkitError(f"{path}: no text found")
    return sections


@hookimpl(trylast=True)
def register_document_loaders(register):
    register(load_markdown, ".md", ".markdown")
    register(load_text, ".txt", ".text")
    register(load_html, ".html", ".htm")
    register(load_pdf, ".pdf")
    register(load_docx, ".docx")
    register(load_xlsx, ".xlsx")
    register(load_csv, ".csv")
    register(load_jsonl_pairs, ".jsonl")


def load_markdown(path: Path) -> list[Section]:
    return markdown_sections(_read_text(path), title_from_name(path.stem))


def load_text(path: Path) -> list[Section]:
    return plain_text_sections(_read_text(path), title_from_name(path.stem))


def load_html(path: Path) -> list[Section]:
    return html_sections(_read_text(path), title_from_name(path.stem))


def load_pdf(path: Path) -> list[Section]:
    return plain_text_sections(_pdf_text(path), title_from_name(path.stem))


def load_docx(path: Path) -> list[Section]:
    return docx_sections(path, title_from_name(path.stem))


def load_xlsx(path: Path) -> list[Section]:
    return xlsx_sections(path, title_from_name(path.stem))


def load_csv(path: Path) -> list[Section]:
    """Question-answer pairs when the header names them, else a table: one sentence per row."""
    text = _read_text(path)
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise BotkitError(f"{path}: malformed CSV ({exc})") from exc
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return []
    title = title_from_name(path.stem)
    columns = qa_columns(rows[0])
    if columns:
        return qa_sections([dict(zip(rows[0], r)) for r in rows[1:]], columns, title)
    return [Section((title,), table_units(rows, header_rows=1))]


def load_jsonl_pairs(path: Path) -> list[Section]:
    rows = [r for r in parse_jsonl(_read_text(path), path) if isinstance(r, dict)]
    if not rows:
        return []
    columns = qa_columns(rows[0])
    if not columns:
        raise BotkitError(f"{path}: needs 'question' and 'answer' keys, found {sorted(rows[0])}")
    return qa_sections(rows, columns, title_from_name(path.stem))


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise BotkitError(f"{path}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BotkitError(f"{path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8") from exc


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader  # deferred: only ingesting a PDF needs it
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise BotkitError(f"{path}: PDF is encrypted; save an unlocked copy")
        # One line break between pages: a sentence running onto the next page stays whole.
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise BotkitError(f"{path}: unreadable PDF ({exc})") from exc
