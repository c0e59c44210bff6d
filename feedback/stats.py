"""`botkit feedback stats`: how much the ranking store holds, how often annotators agree and how often
each model version wins. The statistical models (ratings.py: Bradley-Terry; agreement.py: kappa,
alpha, gold accuracy) live beside this; here are the plain counts and the summary."""

from __future__ import annotations

from collections import Counter, defaultdict

TABLES = {"prompts": "prompts", "responses": "responses", "pairs": "pairs", "comparisons": "comparisons",
          "annotators": "annotators", "ratings": "ratings"}


def model_tallies(comparisons: list[dict]) -> list[dict]:
    """Per model version: wins / (wins + losses); ties and both-bad are counted apart. Pairs where
    both answers come from the same version say nothing about versions and are left out."""
    tally: dict[str, Counter] = defaultdict(Counter)
    for c in comparisons:
        a, b = c["a_model"], c["b_model"]
        if a == b:
            continue
        if c["verdict"] in ("a", "b"):
            winner, loser = (a, b) if c["verdict"] == "a" else (b, a)
            tally[winner]["wins"] += 1
            tally[loser]["losses"] += 1
        else:
            for model in (a, b):
                tally[model]["ties" if c["verdict"] == "tie" else "both_bad"] += 1
    rows = []
    for model, t in tally.items():
        decided = t["wins"] + t["losses"]
        rows.append({"model": model, "wins": t["wins"], "losses": t["losses"], "ties": t["ties"],
                     "both_bad": t["both_bad"], "comparisons": decided + t["ties"] + t["both_bad"],
                     "win_rate": round(t["wins"] / decided, 4) if decided else None})
    return sorted(rows, key=lambda r: (r["win_rate"] is None, -(r["win_rate"] or 0), r["model"]))


def simple_agreement(comparisons: list[dict]) -> dict:
    """Share of pairs judged by two or more annotators where every one of them gave the same verdict."""
    by_pair: dict[int, list[str]] = defaultdict(list)
    for c in comparisons:
        by_pair[c["pair_id"]].append(c["verdict"])
    shared = [v for v in by_pair.values() if len(v) >= 2]
    agreeing = sum(len(set(v)) == 1 for v in shared)
    return {"pairs_with_2plus": len(shared), "agreeing": agreeing,
            "share": round(agreeing / len(shared), 4) if shared else None}


def preference_stats(store, thresholds=None) -> dict:
    """Everything `botkit feedback stats` shows: counts, agreement (raw share, Cohen's kappa per pair
    of annotators, Krippendorff's alpha), per-model win rates and Bradley-Terry ratings, annotators
    with their agreement with the others and whether they are flagged (`thresholds`: the
    `feedback` settings; their defaults when None)."""
    from botkit.feedback.agreement import annotator_stats, cohen_kappas, krippendorff_alpha
    from botkit.feedback.annotator_quality import annotator_quality
    from botkit.feedback.ratings import bradley_terry

    counts = {name: store.db[table].count for name, table in TABLES.items()}
    comparisons = store.comparisons()
    quality = {q["annotator"]: q for q in annotator_quality(comparisons, thresholds)}
    agreement = simple_agreement(comparisons)
    alpha = krippendorff_alpha(comparisons)
    agreement.update(krippendorff_alpha=None if alpha is None else round(alpha, 4),
                     cohen_kappa=cohen_kappas(comparisons))
    return {"counts": counts, "verdicts": dict(Counter(c["verdict"] for c in comparisons)), "agreement": agreement,
            "win_rates": model_tallies(comparisons),
            "ratings": {m: round(r, 1) for m, r in bradley_terry(comparisons).items()},
            "annotators": [{**row, **{k: quality[row["annotator"]][k] for k in ("shared", "agreement", "flagged",
                                                                                 "reasons")}}
                           for row in annotator_stats(comparisons)]}
