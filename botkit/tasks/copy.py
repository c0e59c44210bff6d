"""Clean-ups for short copy a small model writes: the first usable line, its whole sentences within a
limit, and the loops small models fall into (a line is never cut mid-sentence: a cut line is not copy);
`CopyPrompt`, what a copy task asks the model for one field of its output; and `IdeasOption`, the copy
tasks' shared `ideas` option."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

# Every copy task's `ideas` option: None takes the `copy_ideas` setting (`best_of_n_step`).
IdeasOption = Annotated[bool | None, Field(description="Also list the small copy model's own lines apart, as "
                                                       "unchecked ideas (default: the copy_ideas setting, off).")]

_LABEL = r"^\s*(subject(?: line)?|headline|title|preview(?: text)?|(?:meta )?description)\s*:\s*"


def repeats_itself(text: str) -> bool:
    """A word trigram said twice, or fewer than half the words distinct: small models loop."""
    words = re.findall(r"\w+", text.lower())
    trigrams = list(zip(words, words[1:], words[2:]))
    return len(set(trigrams)) < len(trigrams) or (len(words) >= 4 and len(set(words)) < len(words) / 2)


_SENTENCE_END = re.compile(r"[.!?]+[\"'”)]*(?=\s|$)")


def whole_sentences(text: str, limit: int, capped: bool = False) -> str:
    """`text` if it fits `limit` and was not `capped` (stopped by the token cap, so its end may be
    cut); else its first whole sentences that fit, or `text` itself when none does (the limit then
    drops it)."""
    if len(text) <= limit and not capped:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= limit]
    return text[: ends[-1]] if ends else text


def ends_sentence(text: str) -> bool:
    """Does `text` end with a sentence's closing punctuation?"""
    return bool(re.search(r"[.!?]+[\"'”)]*\s*$", text))


def first_line(text: str) -> str:
    """The first non-empty line, without list markers, labels or wrapping quotes."""
    line = next((line for line in text.splitlines() if line.strip()), "")
    line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line)
    line = re.sub(_LABEL, "", line, flags=re.I)
    return line.strip().strip("\"'“”").strip()


@dataclass
class CopyPrompt:
    """What a copy task sends the model for one field of its output (a subject line, a headline...):
    the chat prompt (brief in), the field's character limit, whether it must use one of the brand's
    words, the tokens to sample and the clean-up of a reply. Serving and brand-voice training
    (`botkit train sft` on a copy archive) both build the chat from it, so they see the same prompt."""

    prompt: object  # a langchain-core ChatPromptTemplate over {text}
    limit: int
    brand_words: bool = True
    max_new_tokens: int = 32
    clean: Callable[[str], str] = first_line
