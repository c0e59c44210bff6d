"""What the loop benchmark's annotator ranks (bench/loop.py): the generated pairs and each prompt's
best-of-N against the rest, its verdicts recorded on the stored pairs, and the held-out texts it judges."""

from __future__ import annotations


def merged(reports: list):
    """One GenerationReport of several over disjoint prompts (answers and pairs in their order)."""
    from botkit.feedback.generate import GenerationReport

    out = GenerationReport()
    for r in filter(None, reports):
        out.prompts += r.prompts
        out.responses += r.responses
        out.pairs += r.pairs
        out.skipped = {k: out.skipped[k] + r.skipped[k] for k in out.skipped}
        out.answers += r.answers
        out.considered += r.considered
    return out



def pairs_to_rank(store, generation, prompts, contexts) -> list[tuple[dict, int, str, str, str]]:
    """(prompt, pair, a, b, source) for every pair the annotator ranks: the pairs `generate_pairs`
    queued for people ("queued"), then each prompt's best-of-N against its other candidates
    (`worth_ranking.best_versus_rest`, "best-of-n"), compared in the model's own words for chat: the
    tiny default model's drafts mostly fail the grounding check, so the shown answers are the same
    quote, yet what the model wrote is what DPO changes. The best is chosen by the product's checks
    (the copy checks), which are also what the simulated annotator prefers."""
    from botkit.feedback.worth_ranking import best_versus_rest

    out = []
    for p, ids, considered in zip(prompts, generation.answers, generation.considered):
        queued = {frozenset((a, b)) for pair, a, b, _why in considered if pair is not None}
        out += [(p, pair, a, b, "queued") for pair, a, b, _why in considered if pair is not None]
        rows = {}  # text -> a response whose text it is (chat: re-logged with the model's output as its text)
        for r in map(store.response, dict.fromkeys(ids)):
            text = (r.get("output") if not p["plugin"] else None) or r["text"]
            if text.strip() and text.strip() not in rows:
                rows[text.strip()] = r
        texts = list(rows)
        for best, other in best_versus_rest(texts, contexts[(p["prompt"], p["plugin"])].failures):
            a, b = (_logged_as(store, rows[texts[i]], texts[i]) for i in (best, other))
            if a != b and frozenset((a, b)) not in queued:
                out.append((p, store.add_pair(a, b, origin="generate"), a, b, "best-of-n"))
    return out


def _logged_as(store, r: dict, text: str) -> str:
    """The id of response `r` when `text` is its shown text, else of a copy of it showing `text`."""
    if r["text"].strip() == text:
        return r["id"]
    return store.log_response(r["prompt"], text, model=r["model_version"], plugin=r["plugin"], decoding=r["decoding"],
                              origin="generate", engine_messages=r["engine_messages"], output=r["output"])


def judge_pairs(store, annotator, pairs, contexts, step) -> dict:
    """Record the annotator's verdict on every pair; counts of each verdict by source of pairs."""
    counts = {source: {"a": 0, "b": 0, "tie": 0, "both-bad": 0} for source in ("queued", "best-of-n")}
    for p, pair, _a, _b, source in pairs:
        # The store keeps a pair as (smaller id, larger id) and a verdict names those: judge them in that order.
        stored = store.pair(pair)
        a, b = stored["a_id"], stored["b_id"]
        verdict = annotator.judge(p["prompt"], store.response(a)["text"], store.response(b)["text"],
                                  contexts[(p["prompt"], p["plugin"])])
        store.record_comparison(pair, annotator.name, verdict)
        counts[source][verdict] += 1
        step()
    return counts


def heldout_texts(store, shown: list[str]) -> tuple[str, str, str]:
    """(base text, trained text, what was compared): the shown answers, or the model's own outputs
    behind them when the shown answers are the same (a quote of the sources hides what the model wrote)."""
    a, b = (store.response(i) for i in shown[:2])
    if a["text"].strip() != b["text"].strip() or not (a.get("output") and b.get("output")):
        return a["text"], b["text"], "shown"
    return a["output"], b["output"], "outputs"
