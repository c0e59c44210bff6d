"""Split text into overlapping chunks measured in embedding-model tokens (MiniLM reads 256 at most)."""

from __future__ import annotations

import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

_HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def title_of(text: str, fallback: str) -> str:
    """The first Markdown heading, else the first short line, else `fallback`."""
    match = _HEADING.search(text)
    if match:
        return match.group(1).strip()
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return first if 0 < len(first) <= 80 else fallback


def make_splitter(tokenizer, chunk_tokens: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        tokenizer,
        chunk_size=chunk_tokens,
        chunk_overlap=min(overlap, chunk_tokens // 2),
        # Prefer paragraph, then line, then sentence boundaries (but not after "a.m.", "e.g.").
        separators=["\n\n", "\n", r"(?<![a-z]\.[a-z])\. ", r"[?!] ", "; ", ", ", " ", ""],
        is_separator_regex=True,
        keep_separator="end",
    )


def chunk_sections(sections: list[str], splitter) -> list[str]:
    chunks = []
    for section in sections:
        chunks.extend(c.strip() for c in splitter.split_text(section) if c.strip())
    return chunks
