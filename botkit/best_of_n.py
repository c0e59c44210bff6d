"""Best-of-N, how a small model gives usable copy: sample N candidates in one batch, drop those that
break the task's limit or repeat themselves, rank the rest, best first.

The ranking is a plain function (`Scorer`): similarity to the brand's example copy until a reward
model is trained, then the reward model, without touching any task.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from langchain_core.runnables import RunnableLambda

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.tasks import to_chat

Scorer = Callable[[list[str]], list[float]]


@dataclass
class Candidate:
    text: str
    score: float


def brand_similarity(embedder, examples: list[str]) -> Scorer:
    """Mean cosine similarity of each candidate to the brand's example copy (0 with no examples)."""

    def score(texts: list[str]) -> list[float]:
        if not examples or not texts:
            return [0.0] * len(texts)
        a, b = (_unit(embedder.embed_documents(t)) for t in (texts, examples))
        return (a @ b.T).mean(axis=1).tolist()

    return score


def penalized(scorer: Scorer, penalty: Callable[[str], float]) -> Scorer:
    """`scorer` minus `penalty(text)`: a text that breaks a soft rule is still shown, after those that keep it."""
    return lambda texts: [s - penalty(t) for t, s in zip(texts, scorer(texts))]


def _unit(vectors) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


def repeats_itself(text: str) -> bool:
    """A word trigram said twice, or fewer than half the words distinct: small models loop."""
    words = re.findall(r"\w+", text.lower())
    trigrams = list(zip(words, words[1:], words[2:]))
    return len(set(trigrams)) < len(trigrams) or (len(words) >= 4 and len(set(words)) < len(words) / 2)


def trim_to_limit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a word boundary, without a dangling separator."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    cut = cut[: cut.rfind(" ")] if " " in cut[1:] else text[:limit]
    return cut.rstrip(" ,;:-–—&/").strip()


def first_line(text: str) -> str:
    """The first non-empty line, without list markers, labels or wrapping quotes."""
    line = next((l for l in text.splitlines() if l.strip()), "")
    line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line)
    line = re.sub(r"^\s*(subject(?: line)?|headline|title|preview(?: text)?|(?:meta )?description)\s*:\s*", "", line, flags=re.I)
    return line.strip().strip("\"'“”").strip()


def best_of_n(engine, messages: list[dict], *, samples: int, keep: int, limit: int, scorer: Scorer,
              decoding: DecodingOptions, clean: Callable[[str], str] = first_line) -> list[Candidate]:
    """Up to `keep` distinct candidates of at most `limit` characters, best first.

    Samples once (seeded, so runs repeat); when too few survive, samples once more with the next
    seed; when still too few, trims the over-long ones at a word boundary rather than fail.
    """
    options = decoding.merged(strategy="sample", seed=decoding.seed or 0)
    texts = [clean(g.text) for g in engine.generate_batch([messages] * samples, options)]
    good = _usable(texts, limit)
    if len(good) < keep:
        again = engine.generate_batch([messages] * samples, options.merged(seed=options.seed + 1))
        texts += [clean(g.text) for g in again]
        good = _usable(texts, limit)
    if len(good) < keep:
        trimmed = [trim_to_limit(t, limit) for t in texts]
        good = _usable(good + trimmed, limit)
        # Last resort: a repetitive line beats no line at all.
        good += [t for t in _distinct(trimmed) if t and t.lower() not in {g.lower() for g in good}]
    if not good:
        raise BotkitError(f"the model {engine.name} gave no usable text; try again or use a stronger model")
    ranked = sorted(zip(good, scorer(good)), key=lambda pair: -pair[1])[:keep]
    return [Candidate(text, float(score)) for text, score in ranked]


def best_of_n_step(bot, *, keep: int, limit: int, seed: int, max_new_tokens: int, scorer: Scorer | None = None,
                   clean: Callable[[str], str] = first_line) -> RunnableLambda:
    """`best_of_n` as a Runnable step (chat prompt in, candidates out) on `bot`'s active model and
    decoding; `scorer` defaults to similarity to the brand's sample copy."""
    scorer = scorer or brand_similarity(bot.embedder, bot.brand.sample_copy)
    decoding = bot.settings.decoding.merged(max_new_tokens=max_new_tokens, seed=seed)
    return RunnableLambda(lambda prompt: best_of_n(bot.engine, to_chat(prompt), samples=max(2 * keep, 4), keep=keep,
                                                   limit=limit, scorer=scorer, decoding=decoding, clean=clean))


def _distinct(texts: list[str]) -> list[str]:
    seen, out = set(), []
    for t in texts:
        if t.lower() not in seen:
            seen.add(t.lower())
            out.append(t)
    return out


def _usable(texts: list[str], limit: int) -> list[str]:
    return _distinct([t for t in texts if t and len(t) <= limit and not repeats_itself(t)])
