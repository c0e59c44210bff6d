"""Which annotators to trust: an annotator whose gold-pair accuracy, or agreement with the other
annotators, falls under the configured threshold is flagged, and flagged annotators' verdicts are left
out of exports and training unless asked for (a random clicker would otherwise poison the reward model).

Agreement is measured against trusted annotators only, worst first: once a random clicker is flagged,
the honest annotators who shared pairs with it are no longer judged by their disagreement with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from botkit.config import FeedbackSettings
from botkit.feedback.agreement import gold_accuracy


def _agreement(comparisons: list[dict], trusted: set[str]) -> dict[str, tuple[float, int]]:
    """annotator -> (mean share of the trusted others who gave the same verdict, pairs judged by a
    trusted other too). A gold pair's known answer counts as one more trusted other, so the two kinds
    of evidence add up; each pair counts once, however many others judged it."""
    by_pair: dict[int, dict[str, str]] = defaultdict(dict)
    gold: dict[int, str] = {}
    for c in comparisons:
        by_pair[c["pair_id"]][c["annotator"]] = c["verdict"]
        if c.get("gold"):
            gold[c["pair_id"]] = c["gold"]
    tally: dict[str, list[float]] = defaultdict(list)
    for pair_id, verdicts in by_pair.items():
        for name, verdict in verdicts.items():
            others = [theirs for other, theirs in verdicts.items() if other != name and other in trusted]
            others += [gold[pair_id]] if pair_id in gold else []
            if others:
                tally[name].append(sum(theirs == verdict for theirs in others) / len(others))
    return {name: (sum(shares) / len(shares), len(shares)) for name, shares in tally.items()}


def annotator_quality(comparisons: Iterable[dict], thresholds: FeedbackSettings | None = None) -> list[dict]:
    """One row per annotator: `annotator`, `gold`, `gold_accuracy`, `shared` (pairs another trusted
    annotator judged too), `agreement` (mean share of those others who gave the same verdict), `flagged`
    and `reasons` (why, in words). Figures are None when there is nothing to compute them from; an
    annotator is flagged only with enough evidence (`min_gold_pairs`, `min_shared_pairs`)."""
    thresholds = thresholds or FeedbackSettings()
    comparisons = list(comparisons)
    names = sorted({c["annotator"] for c in comparisons})
    gold = gold_accuracy(comparisons)
    reasons: dict[str, list[str]] = {name: [] for name in names}
    for name, g in gold.items():
        if g["gold"] >= thresholds.min_gold_pairs and g["accuracy"] < thresholds.min_gold_accuracy:
            reasons[name].append(f"right on {g['correct']} of {g['gold']} gold pairs "
                                 f"(under {thresholds.min_gold_accuracy:.0%})")
    # Flag the least agreeing annotator, recompute against those still trusted, repeat.
    while True:
        trusted = {name for name in names if not reasons[name]}
        agreement = _agreement(comparisons, trusted)
        below = [(share, name) for name, (share, n) in agreement.items()
                 if name in trusted and n >= thresholds.min_shared_pairs and share < thresholds.min_agreement]
        if not below:
            break
        share, worst = min(below)
        reasons[worst].append(f"agreed with the others on {share:.0%} of {agreement[worst][1]} shared pairs "
                              f"(under {thresholds.min_agreement:.0%})")
    rows = []
    for name in names:
        share, n = agreement.get(name, (None, 0))
        rows.append({"annotator": name, "gold": gold.get(name, {}).get("gold", 0),
                     "gold_accuracy": gold[name]["accuracy"] if name in gold else None,
                     "shared": n, "agreement": share,
                     "flagged": bool(reasons[name]), "reasons": reasons[name]})
    return rows


def flagged_annotators(comparisons: Iterable[dict], thresholds: FeedbackSettings | None = None) -> dict[str, list[str]]:
    """Flagged annotator -> the reasons."""
    return {r["annotator"]: r["reasons"] for r in annotator_quality(comparisons, thresholds) if r["flagged"]}
