"""Best-of-N chat drafts (setting `answer_candidates`): several sampled drafts of a grounded answer, each
checked the way a streamed draft is, and the best one that passes shown in the model's own words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from botkit.decoding import DecodingOptions
from botkit.models.engine import Generation
from botkit.streaming import CheckedAnswer
from botkit.tasks.scoring import Scorer, copy_scorer, rank_scores, ranker_name

# The fallback ranker's name, as Reply.ranker shows it.
SOURCE_RANKER = "source_similarity"


def draft_options(options: DecodingOptions) -> DecodingOptions:
    """The decoding drafts are sampled with: sampling (greedy would give N copies of one draft; the engine
    takes one decoding per batch, so the greedy draft cannot ride along), seeded so a question gets the
    same drafts every time (the configured seed, else 0)."""
    return options.merged(strategy="sample", seed=options.seed if options.seed is not None else 0)


def source_similarity(embedder, source: str) -> Scorer:
    """Cosine similarity of each answer to `source`, the sentence its citation points to."""

    def score(texts: list[str]) -> list[float]:
        vectors = np.asarray(embedder.embed_documents([source, *texts]), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        return (vectors[1:] @ vectors[0]).tolist()

    score.ranker = SOURCE_RANKER
    return score


def answer_scorer(bot, evidence: list) -> Scorer:
    """What ranks the drafts that pass: the scorer copy ranks with (`copy_scorer`: a plugin's scorer, or
    the promoted reward version once it beat brand similarity on held-out pairs), except its last resort,
    brand similarity. That measures likeness to the brand's marketing copy, which says nothing about
    an answer to a support question; the fallback is instead similarity to the source sentence the
    answer cites (`evidence[0]`, the one the check anchors on), so among drafts that all passed the
    check the one that stays closest to its source, least likely to drift off the fact, is shown."""
    scorer = copy_scorer(bot)
    if ranker_name(scorer) == "brand_similarity":
        return source_similarity(bot.embedder, evidence[0].sentence)
    return scorer


@dataclass
class BestDraft:
    """The draft to show: its finished check (`answer`: generated, or the quote when no draft passed),
    its generation, the ranker that chose it ("" when fewer than two distinct drafts passed) and a note
    for `Reply.check`."""

    answer: CheckedAnswer
    generation: Generation
    ranker: str
    note: str


def best_draft(generations: list[Generation], checker: Callable[[], CheckedAnswer],
               scorer: Callable[[], Scorer], prompt) -> BestDraft:
    """Check every draft with a fresh `checker()`, keep those that pass in the model's own words (one of
    each shown text), and rank them by `scorer()` (made only when there are two to order) on the text
    they would show: what a person reads, not the sentences the check leaves out; the reward version
    also gets `prompt`, the chat the engine saw. Ties go to the earlier draft. With no draft
    passing, the first draft's check (its quote of the sources) is returned."""
    checked = []
    for generation in generations:
        answer = checker()
        answer.feed(generation.text)
        answer.finish()
        checked.append((answer, generation))
    passed, seen = [], set()
    for answer, generation in checked:
        if answer.grounding == "generated" and answer.text.lower() not in seen:
            seen.add(answer.text.lower())
            passed.append((answer, generation))
    note = f"best of {len(generations)} drafts: {len(passed)} distinct passed the check"
    if not passed:
        return BestDraft(*checked[0], "", note)
    if len(passed) == 1:
        return BestDraft(*passed[0], "", note)
    ranking = scorer()
    scores = rank_scores(ranking, [a.text for a, _ in passed], prompt)
    best = max(range(len(passed)), key=lambda i: (scores[i], -i))
    name = ranker_name(ranking)
    return BestDraft(*passed[best], name, f"{note}, ranked by {name}")
