"""People's choices in the prompt without training: a chat pair's winner that enough annotators all
picked becomes a few-shot example (`botkit.prompting.fewshot`), so the next answer to a similar
question is shown it. The Data page's button, and the Rank page when `feedback.fewshot_auto` is on."""

from __future__ import annotations

import re
from itertools import groupby

from botkit.prompting.fewshot import add_example

_CITATION = re.compile(r"\s*\[\d+\]")  # "[1]": a source marker means nothing without that answer's sources


def agreed_winners(store, min_annotators: int = 2) -> list[dict]:
    """Chat pairs (not plugin copy) judged by at least `min_annotators` who all picked the same side,
    with the winning text, not yet few-shot examples; oldest pair first."""
    added = {r["pair_id"] for r in store.db.query("SELECT pair_id FROM fewshot_examples WHERE pair_id IS NOT NULL")}
    winners = []
    for pair_id, rows in groupby(store.comparisons(), key=lambda c: c["pair_id"]):
        rows = list(rows)
        verdicts = {r["verdict"] for r in rows}
        if pair_id in added or rows[0]["plugin"] or len(rows) < min_annotators or len(verdicts) != 1:
            continue
        (verdict,) = verdicts
        if verdict in ("a", "b"):
            winners.append({"pair_id": pair_id, "input": rows[0]["prompt"], "annotators": len(rows),
                            "output": _CITATION.sub("", rows[0][f"{verdict}_text"]).strip()})
    return winners


def promote_agreed(store, min_annotators: int = 2, pair_ids=None) -> list[dict]:
    """Add the agreed winners (those of `pair_ids` only, when given) as few-shot examples; returns
    the ones added."""
    added = []
    for w in agreed_winners(store, min_annotators):
        if pair_ids is not None and w["pair_id"] not in pair_ids:
            continue
        if add_example(store.db, w["input"], w["output"], pair_id=w["pair_id"], annotators=w["annotators"]):
            added.append(w)
    return added
