"""The held-out split of prompts: one function for `feedback export --test-fraction` and `botkit train`,
so an exported test file and a training run from the store hold out the same prompts."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable


def prompt_key(prompt) -> str:
    """A prompt's identity for the split: its text, or its chat's roles and texts (other message
    fields never move a prompt to the other side)."""
    if isinstance(prompt, str):
        return prompt
    return json.dumps([[m["role"], m["content"]] for m in prompt], ensure_ascii=False)


def row_key(row: dict) -> str:
    """A training or export row's identity for the split: the user's question (`question`, or the
    export's `provenance.question`), so one question never lands on both sides even when the chats the
    engine saw for it differ (other sources, other few-shot turns); else the row's prompt."""
    question = row.get("question") or (row.get("provenance") or {}).get("question")
    return prompt_key(question or row.get("prompt", row.get("messages", row.get("text"))))


def _rank(key: str, seed: int) -> bytes:
    """A prompt's place in the seeded order: fixed by the prompt and the seed, not by the file's order."""
    return hashlib.sha256(f"{seed}\x00{key}".encode()).digest()


def held_out(keys: Iterable[str], fraction: float, seed: int) -> set[str]:
    """The prompt keys held out: the `fraction` of them (rounded down) lowest in the seeded order, at
    least one and never all when there are two or more; none when `fraction` is 0.

    A rank rather than a hash threshold, so the held-out share is what was asked for even on a small
    file (the training runs' held-out figures need it). The price: when many prompts are added, a
    prompt near the cut can move from held-out to train; compare runs on a fixed test file
    (`feedback export --test-fraction`) when that matters.
    """
    keys = sorted(set(keys), key=lambda k: _rank(k, seed))
    if not fraction or len(keys) < 2:
        return set()
    return set(keys[: min(len(keys) - 1, max(1, math.floor(len(keys) * fraction)))])


def split_by_prompt(rows: list[dict], fraction: float, seed: int, key=row_key) -> tuple[list[dict], list[dict]]:
    """(train, held-out) rows, every row of a prompt on the same side (see `held_out`)."""
    held = held_out((key(r) for r in rows), fraction, seed)
    return [r for r in rows if key(r) not in held], [r for r in rows if key(r) in held]
