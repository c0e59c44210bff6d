"""Read a file into plain-text sections: Markdown, text, HTML, PDF, and CSV/JSONL question-answer
pairs. Each file type is a loader registered through the `register_document_loaders` hook, so a
plugin can add a type or replace one of these."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from botkit.errors import BotkitError
from botkit.hookspecs import hookimpl
from botkit.jsonl import parse_jsonl
from botkit.plugins import get_document_loaders

_QUESTION_KEYS = ("question", "q", "prompt", "input")
_ANSWER_KEYS = ("answer", "a", "response", "output")


def supported_suffixes() -> set[str]:
    """The file suffixes some loader reads (".md", ".pdf", ...)."""
    return set(get_document_loaders())


def load_sections(path: Path) -> list[str]:
    """Return the file's text as sections (one per document, or one per Q&A pair).

    Raises BotkitError for empty, binary or unreadable files.
    """
    loaders = get_document_loaders()
    suffix = path.suffix.lower()
    if suffix not in loaders:
        raise BotkitError(f"{path}: unsupported file type '{suffix}' (supported: {', '.join(sorted(loaders))})")
    if path.stat().st_size == 0:
        raise BotkitError(f"{path}: file is empty")
    sections = [s.strip() for s in loaders[suffix](path) if s and s.strip()]
    if not sections:
        raise BotkitError(f"{path}: no text found")
    return sections


@hookimpl(trylast=True)
def register_document_loaders(register):
    register(load_text, ".md", ".markdown", ".txt", ".text")
    register(load_html, ".html", ".htm")
    register(load_pdf, ".pdf")
    register(load_csv_pairs, ".csv")
    register(load_jsonl_pairs, ".jsonl")


def load_text(path: Path) -> list[str]:
    return [_read_text(path)]


def load_html(path: Path) -> list[str]:
    return [_html_text(_read_text(path))]


def load_pdf(path: Path) -> list[str]:
    return [_pdf_text(path)]


def load_csv_pairs(path: Path) -> list[str]:
    return _qa_pairs(path, list(csv.DictReader(io.StringIO(_read_text(path)))))


def load_jsonl_pairs(path: Path) -> list[str]:
    return _qa_pairs(path, parse_jsonl(_read_text(path), path))


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise BotkitError(f"{path}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BotkitError(f"{path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8") from exc


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup  # deferred, as pypdf below: only ingesting such a file needs it

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "header"]):
        tag.decompose()
    return soup.get_text("\n", strip=True)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise BotkitError(f"{path}: PDF is encrypted; save an unlocked copy")
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise BotkitError(f"{path}: unreadable PDF ({exc})") from exc


def _qa_pairs(path: Path, rows: list[dict]) -> list[str]:
    if not rows:
        return []
    keys = {k.lower().strip(): k for k in rows[0] if k}
    q = next((keys[k] for k in _QUESTION_KEYS if k in keys), None)
    a = next((keys[k] for k in _ANSWER_KEYS if k in keys), None)
    if not q or not a:
        raise BotkitError(f"{path}: needs 'question' and 'answer' columns/keys, found {sorted(keys)}")
    return [f"Q: {str(r.get(q) or '').strip()}\nA: {str(r.get(a) or '').strip()}" for r in rows if r.get(a)]
