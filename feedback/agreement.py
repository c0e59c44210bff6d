"""How far annotators agree and how reliable each one is: Cohen's kappa per pair of annotators,
Krippendorff's alpha over everyone, gold-pair accuracy and per-annotator statistics (the Data page).

All functions take comparison dicts as `RankingStore.comparisons()` returns them (`pair_id`,
`annotator`, `verdict`, `seconds`, `gold`). Verdicts are nominal categories: a, b, tie, both-bad.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np
from sklearn.metrics import cohen_kappa_score

from botkit.feedback.store import VERDICTS


def _by_pair(comparisons: Iterable[dict]) -> dict[int, dict[str, str]]:
    """pair_id -> {annotator: verdict}."""
    units: dict[int, dict[str, str]] = defaultdict(dict)
    for c in comparisons:
        units[c["pair_id"]][c["annotator"]] = c["verdict"]
    return units


def cohen_kappas(comparisons: Iterable[dict], *, min_overlap: int = 2) -> list[dict]:
    """Cohen's kappa for each pair of annotators over the pairs both judged: rows of
    `annotator_1`, `annotator_2`, `n` (pairs in common), `agreement` (raw share) and `kappa`.

    `kappa` is None when they share fewer than `min_overlap` pairs, or when it is undefined: both
    gave one and the same verdict throughout, so chance agreement is already 1.
    """
    units = _by_pair(comparisons)
    annotators = sorted({name for verdicts in units.values() for name in verdicts})
    rows = []
    for first, second in itertools.combinations(annotators, 2):
        shared = [(v[first], v[second]) for v in units.values() if first in v and second in v]
        if not shared:
            continue
        x, y = zip(*shared)
        kappa = None
        if len(shared) >= min_overlap and len(set(x) | set(y)) > 1:
            kappa = float(cohen_kappa_score(x, y, labels=list(VERDICTS)))
        agreement = sum(p == q for p, q in shared) / len(shared)
        rows.append({"annotator_1": first, "annotator_2": second, "n": len(shared), "agreement": agreement,
                     "kappa": kappa})
    return rows


def krippendorff_alpha(comparisons: Iterable[dict]) -> float | None:
    """Krippendorff's alpha for nominal data over all annotators, missing judgements allowed.

    Computed from the coincidence matrix as in K. Krippendorff, "Computing Krippendorff's
    Alpha-Reliability" (2011), section C: each pair judged by m >= 2 annotators adds 1 / (m - 1) for
    every ordered pair of its values; with o_ck those sums, n_c the row totals and n the grand total,
    alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c * n_k.
    (The `krippendorff` package computes the same but is GPL-licensed; botkit is Apache-2.0.)
    None when fewer than two values are pairable or every pairable value is the same category.
    """
    units = _by_pair(comparisons)
    categories = sorted({v for verdicts in units.values() for v in verdicts.values()}, key=str)
    index = {v: i for i, v in enumerate(categories)}
    o = np.zeros((len(categories), len(categories)))
    for verdicts in units.values():
        values = [index[v] for v in verdicts.values()]
        if len(values) < 2:
            continue  # a pair judged once cannot show (dis)agreement
        counts = np.bincount(values, minlength=len(categories))
        # Ordered pairs of distinct judgements: counts_c * counts_k, minus the self-pairs on the diagonal.
        o += (np.outer(counts, counts) - np.diag(counts)) / (len(values) - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    off_diagonal = ~np.eye(len(categories), dtype=bool)
    expected = (np.outer(n_c, n_c)[off_diagonal]).sum()
    if n < 2 or expected == 0:
        return None
    return float(1 - (n - 1) * o[off_diagonal].sum() / expected)


def gold_accuracy(comparisons: Iterable[dict]) -> dict[str, dict]:
    """annotator -> {"gold": pairs with a known answer they judged, "correct": n, "accuracy": share}."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in comparisons:
        if c.get("gold"):
            tally[c["annotator"]][0] += 1
            tally[c["annotator"]][1] += c["verdict"] == c["gold"]
    return {name: {"gold": n, "correct": right, "accuracy": right / n} for name, (n, right) in sorted(tally.items())}


def annotator_stats(comparisons: Iterable[dict]) -> list[dict]:
    """One row per annotator: `annotator`, `comparisons`, `median_seconds` (None when no time was
    recorded), one count per verdict, and gold-pair `gold` / `gold_accuracy` (None without gold)."""
    comparisons = list(comparisons)
    by_annotator: dict[str, list[dict]] = defaultdict(list)
    for c in comparisons:
        by_annotator[c["annotator"]].append(c)
    gold = gold_accuracy(comparisons)
    rows = []
    for name, mine in sorted(by_annotator.items()):
        seconds = [c["seconds"] for c in mine if c.get("seconds") is not None and not math.isnan(c["seconds"])]
        verdicts = Counter(c["verdict"] for c in mine)
        rows.append({
            "annotator": name,
            "comparisons": len(mine),
            "median_seconds": statistics.median(seconds) if seconds else None,
            **{v: verdicts.get(v, 0) for v in VERDICTS},
            "gold": gold.get(name, {}).get("gold", 0),
            "gold_accuracy": gold[name]["accuracy"] if name in gold else None,
        })
    return rows
