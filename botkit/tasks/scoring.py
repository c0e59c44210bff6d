"""Scorers rank best-of-N candidates: a plain function from texts to scores, higher is better.

Built in: similarity to the brand's example copy, the fallback; the promoted reward version ranks
before it once it beat it on held-out pairs (`botkit.feedback.reward_ranking`). Plugins add others
through the `register_scorers` hook, and tasks rank with `copy_scorer(bot)`, so a better scorer
changes every copy task without touching any of them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from botkit.hookspecs import hookimpl
from botkit.plugins import get_scorer, get_scorers

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
    def score(texts: list[str], prompt=None) -> list[float]:
        return [s - penalty(t) for t, s in zip(texts, rank_scores(scorer, texts, prompt))]

    score.ranker = ranker_name(scorer)
    score.takes_prompt = True
    return score


def copy_scorer(bot, name: str | None = None) -> Scorer:
    """The scorer copy tasks rank with: `name`, or the first registered scorer available for `bot`
    (plugins' first, then the promoted reward version once it beat brand similarity, then the
    built-in brand similarity). Its `ranker` attribute names it, for replies to show."""
    scorers = get_scorers()
    if name is not None and name not in scorers:
        return get_scorer(bot, name)  # the error that lists the known scorers
    for found, make in ([(name, scorers[name])] if name else scorers.items()):
        if (scorer := make(bot)) is not None:
            def score(texts: list[str], prompt=None, _scorer=scorer) -> list[float]:
                return rank_scores(_scorer, texts, prompt)

            score.ranker = found
            score.takes_prompt = True
            return score
    return get_scorer(bot, name)  # the error that says none is available


def rank_scores(scorer: Scorer, texts: list[str], prompt=None) -> list[float]:
    """`scorer`'s scores of `texts`; a scorer marked `takes_prompt` (a reward model) also gets the
    prompt the candidates answer (the chat the engine saw), so it scores what it was trained on."""
    if getattr(scorer, "takes_prompt", False):
        return list(scorer(texts, prompt=prompt))
    return list(scorer(texts))


def ranker_name(scorer: Scorer) -> str:
    """The name a scorer was registered under ("" for a plain function)."""
    return getattr(scorer, "ranker", "")


def _unit(vectors) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


@hookimpl(trylast=True)
def register_scorers(register):
    register("brand_similarity", lambda bot: brand_similarity(bot.embedder, bot.brand.sample_copy))
