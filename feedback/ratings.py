"""Bradley-Terry ratings of model versions from pairwise comparisons, with bootstrap confidence
intervals and a pairwise win-rate matrix: the numbers behind the Leaderboard.

The fit is the LMSYS Chatbot Arena one: a logistic regression without intercept over design rows
holding +1 for the model on side a and -1 for the model on side b, so each coefficient is a model's
strength. Coefficients are shown on an Elo-like scale, ``400 / ln 10 * beta + 1000``: a 400-point
gap means 10:1 odds of winning, and a model of average strength sits at 1000.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np
from sklearn.linear_model import LogisticRegression

SCALE = 400 / math.log(10)
BASE_RATING = 1000.0
# A verdict as side a's share of the win; "both-bad" says nothing about which answer is better.
SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5}


def outcomes(comparisons: Iterable[dict]) -> list[tuple[str, str, float]]:
    """(a_model, b_model, a's score) for the comparisons that rank two different models.

    A tie is half a win to each side; "both-bad" verdicts and comparisons of a model against
    itself (two decodings of one version) are left out: they say nothing about which is stronger.
    """
    rows = []
    for c in comparisons:
        score = SCORES.get(c["verdict"])
        if score is not None and c["a_model"] != c["b_model"]:
            rows.append((c["a_model"], c["b_model"], score))
    return rows


def bradley_terry(comparisons: Iterable[dict], *, prior: float = 0.1) -> dict[str, float]:
    """Each model's rating on the Elo-like scale, from comparison dicts as `RankingStore.comparisons()`
    returns them (`a_model`, `b_model`, `verdict`).

    Verdict "a" is a win for a_model, "b" for b_model, "tie" half a win to each, "both-bad" is
    ignored. `prior` is the strength of a Gaussian prior on the coefficients (an L2 penalty
    ``prior / 2 * |beta|^2`` beside the summed log-loss): it keeps ratings finite when one model
    has won every comparison so far and fades as comparisons accumulate; 0 gives the plain maximum
    likelihood fit. Ratings average 1000.
    """
    return _fit(outcomes(comparisons), prior)


def _fit(rows: list[tuple[str, str, float]], prior: float) -> dict[str, float]:
    models = sorted({m for a, b, _ in rows for m in (a, b)})
    if len(models) < 2:
        return {m: BASE_RATING for m in models}
    index = {m: i for i, m in enumerate(models)}
    # Identical outcomes become one weighted row: the fit's size depends on the models, not the data.
    counts = Counter(rows)
    x = np.zeros((len(counts), len(models)))
    scores = np.array([s for _, _, s in counts])
    for r, (a, b, _) in enumerate(counts):
        x[r, index[a]], x[r, index[b]] = 1.0, -1.0
    times = np.array(list(counts.values()), dtype=float)
    # Each comparison becomes a win row weighted by a's score and a loss row weighted by the rest,
    # and again mirrored (b's view: -x). Mirroring leaves the likelihood unchanged (halved weights)
    # and guarantees both classes exist, which scikit-learn needs even when a always won.
    design = np.vstack([x, x, -x, -x])
    labels = np.repeat([1, 0, 1, 0], len(counts))
    weights = np.concatenate([scores, 1 - scores, 1 - scores, scores]) * np.tile(times, 4) / 2
    keep = weights > 0
    # sklearn minimises |beta|^2 / 2 + C * sum(loss): C = 1 / prior gives the documented objective.
    model = LogisticRegression(fit_intercept=False, C=1 / prior if prior > 0 else np.inf, tol=1e-6, max_iter=1000)
    model.fit(design[keep], labels[keep], sample_weight=weights[keep])
    beta = model.coef_[0]
    # Design rows sum to zero, so only differences are identified: centre them on the base rating.
    beta = beta - beta.mean()
    return {m: float(BASE_RATING + SCALE * beta[index[m]]) for m in models}


def leaderboard(comparisons: Iterable[dict], *, rounds: int = 200, level: float = 0.95, seed: int = 0,
                prior: float = 0.1) -> list[dict]:
    """One row per model, best first: `model`, `rating`, `lower`, `upper` (a bootstrap percentile
    interval at `level`), `comparisons`, `wins`, `losses`, `ties`.

    The interval comes from `rounds` refits on comparisons resampled with replacement (seeded, so
    the same data always gives the same interval). A model missing from a resample (possible when
    it has few comparisons) is left out of that round's percentiles.
    """
    rows = outcomes(comparisons)
    ratings = _fit(rows, prior)
    lower, upper = bootstrap_intervals(rows, rounds=rounds, level=level, seed=seed, prior=prior)
    counts: dict[str, dict] = defaultdict(lambda: {"comparisons": 0, "wins": 0, "losses": 0, "ties": 0})
    for a, b, s in rows:
        for model, score in ((a, s), (b, 1 - s)):
            c = counts[model]
            c["comparisons"] += 1
            if score == 0.5:
                c["ties"] += 1
            else:
                c["wins" if score == 1 else "losses"] += 1
    board = [{"model": m, "rating": r, "lower": lower.get(m, r), "upper": upper.get(m, r), **counts[m]}
             for m, r in ratings.items()]
    return sorted(board, key=lambda row: row["rating"], reverse=True)


def bootstrap_intervals(rows: list[tuple[str, str, float]], *, rounds: int = 200, level: float = 0.95,
                        seed: int = 0, prior: float = 0.1) -> tuple[dict[str, float], dict[str, float]]:
    """Percentile bounds (lower, upper) of each model's rating over `rounds` resamples of `rows`
    (the output of `outcomes`)."""
    models = sorted({m for a, b, _ in rows for m in (a, b)})
    if not rows or rounds <= 0:
        return {}, {}
    rng = np.random.default_rng(seed)
    samples = {m: [] for m in models}
    for _ in range(rounds):
        picked = rng.integers(0, len(rows), len(rows))
        fitted = _fit([rows[i] for i in picked], prior)
        for m in models:
            samples[m].append(fitted.get(m, np.nan))
    tail = (1 - level) / 2 * 100
    lower = {m: float(np.nanpercentile(v, tail)) for m, v in samples.items()}
    upper = {m: float(np.nanpercentile(v, 100 - tail)) for m, v in samples.items()}
    return lower, upper


def win_rates(comparisons: Iterable[dict]) -> list[dict]:
    """The pairwise win-rate matrix in long form, one row per ordered pair of models that met:
    `model`, `opponent`, `win_rate` (wins plus half the ties, over their comparisons), `n`.
    Both-bad verdicts are left out, as in the ratings."""
    score: dict[tuple[str, str], float] = defaultdict(float)
    count: dict[tuple[str, str], int] = defaultdict(int)
    for a, b, s in outcomes(comparisons):
        score[a, b] += s
        score[b, a] += 1 - s
        count[a, b] += 1
        count[b, a] += 1
    return [{"model": m, "opponent": o, "win_rate": score[m, o] / n, "n": n} for (m, o), n in sorted(count.items())]
