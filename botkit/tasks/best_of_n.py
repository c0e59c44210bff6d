"""Best-of-N, how a small model gives usable copy: sample N candidates in one batch, drop those that
break the task's limit or repeat themselves, rank the rest with a scorer (`botkit.tasks.scoring`),
best first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.runnables import RunnableLambda

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.tasks.copy import first_line, repeats_itself, trim_to_limit
from botkit.tasks.model import to_chat
from botkit.tasks.scoring import Scorer, copy_scorer


@dataclass
class Candidate:
    text: str
    score: float


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
    decoding; `scorer` defaults to `copy_scorer(bot)`."""
    scorer = scorer or copy_scorer(bot)
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
