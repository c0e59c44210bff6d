"""Scorers rank best-of-N candidates: a plain function from texts to scores, higher is better.

Built in: similarity to the brand's example copy. Plugins add others through the
`register_scorers` hook (a reward model, once one is trained), and tasks rank with `copy_scorer(bot)`,
so a better scorer changes every copy task without touching any of them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from botkit.hookspecs import hookimpl
from botkit.plugins import get_scorer

Scorer = Callable[[list[str]], list[float]]


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


def copy_scorer(bot, name: str | None = None) -> Scorer:
    """The scorer copy tasks rank with: `name`, or the first registered scorer available for `bot`
    (plugins' before the built-in brand similarity)."""
    return get_scorer(bot, name)


def _unit(vectors) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


@hookimpl(trylast=True)
def register_scorers(register):
    register("brand_similarity", lambda bot: brand_similarity(bot.embedder, bot.brand.sample_copy))
