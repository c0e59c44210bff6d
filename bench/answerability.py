"""Fit the paraphrase decision of `botkit.answerability` on the sample knowledge bases and print its constants.

    .venv/bin/python bench/answerability.py [--json] [--leave-one-out]

Rows: every question the "most words unknown" gate would decline (half the words in no document, no name, no
source saying nearly the same, some evidence) among Kettlebrook's, helpdesk's and the bike shop's own questions
(answerable: 1, out of scope: 0), each other's (0, asked of the wrong business) and bench/paraphrases (1 / 0).
A logistic regression (balanced classes, standardised signals) over `Signals`; the blind sets (bench/heldout-*)
are never read. Paste FITTED and INTERCEPT into botkit/answerability.py. --leave-one-out also judges each row by a
regression fitted without it: how the decision does on questions it was not fitted on.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import astuple, fields
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {"kettlebrook": (ROOT / "examples/kettlebrook", ROOT / "bench/paraphrases/kettlebrook"),
           "helpdesk": (ROOT / "examples/helpdesk", None),
           "bike-shop": (ROOT / "bench/heldout", ROOT / "bench/paraphrases/bike-shop")}


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def questions_for(name: str) -> list[tuple[dict, int]]:
    """(question, 1 when this knowledge base answers it) for sample `name`."""
    folder, paraphrases = SAMPLES[name]
    asked = [(q, 1) for q in read(folder / "eval/questions.jsonl")]
    asked += [(q, 0) for q in read(folder / "eval/out_of_scope.jsonl")]
    if paraphrases:
        asked += [(q, 1) for q in read(paraphrases / "questions.jsonl")]
        asked += [(q, 0) for q in read(paraphrases / "out_of_scope.jsonl")]
    for other, (other_folder, _) in SAMPLES.items():
        if other != name:
            asked += [(q, 0) for q in read(other_folder / "eval/questions.jsonl") + read(
                other_folder / "eval/out_of_scope.jsonl") if not q.get("previous")]
    return asked


def gated_rows(name: str, embedder) -> list[tuple[list[float], int, str]]:
    """The signals of the questions gate 1 would decline on sample `name`, with their labels."""
    from botkit.answerability import signals
    from botkit.config import load_settings
    from botkit.dialogue import Bot
    from botkit.evidence import RESTATED, closest_cosine
    from botkit.knowledge.terms import asking_part, unknown_names, unknown_share

    # Chroma keeps its files open until the process ends: leftovers of the throwaway home are fine.
    with tempfile.TemporaryDirectory(prefix=f"botkit-answerability-{name}-", ignore_cleanup_errors=True) as home:
        bot = Bot(load_settings().model_copy(update={"home": Path(home)}), embedder=embedder)
        bot.knowledge.ingest(SAMPLES[name][0] / "knowledge")
        vocabulary = bot.knowledge.vocabulary()
        rows, found = [], {}

        def evidence_for(text: str) -> list:  # looked up once a text, as `Bot._plan` does
            if text not in found:
                found[text] = bot._evidence(text)
            return found[text]

        for item, label in questions_for(name):
            message = item["question"]
            history = [{"role": "user", "content": item["previous"]}] if item.get("previous") else []
            query = bot._retrieval_query(message, history, evidence_for)
            if unknown_share(query, vocabulary) < 0.5 or unknown_names(asking_part(query), vocabulary):
                continue
            restated = closest_cosine(query, evidence_for(query), bot.embedder)
            focused = evidence_for(query) if query == message else bot._evidence(query, focus=message)
            if restated < RESTATED and focused:
                found_signals = signals(query, vocabulary, restated, focused, bot.embedder)
                rows.append((list(astuple(found_signals)), label, message))
        return rows


def fit(x: np.ndarray, y: np.ndarray):
    """The regression on standardised signals: (model, mean, scale)."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0  # a signal equal on every row tells nothing; no division by zero
    return LogisticRegression(class_weight="balanced", max_iter=1000).fit((x - mean) / scale, y), mean, scale


def left_out(x: np.ndarray, y: np.ndarray) -> dict:
    """Each row's probability from a regression fitted on the other rows: ROC AUC and passes by threshold."""
    p = np.zeros(len(y))
    for i in range(len(y)):
        model, mean, scale = fit(np.delete(x, i, axis=0), np.delete(y, i))
        p[i] = model.predict_proba(((x[i] - mean) / scale)[None])[0, 1]
    auc = np.mean([(a > b) + 0.5 * (a == b) for a in p[y == 1] for b in p[y == 0]])
    return {"auc": round(float(auc), 3), "passing_by_threshold": passing(p, y)}


def passing(p: np.ndarray, y: np.ndarray) -> dict:
    return {t: {"answerable": int(((p >= t) & (y == 1)).sum()), "out_of_scope": int(((p >= t) & (y == 0)).sum())}
            for t in (0.5, 0.6, 0.7, 0.8, 0.9)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--leave-one-out", action="store_true", help="also judge each row by a fit without it")
    args = parser.parse_args()

    from botkit.answerability import Signals
    from botkit.embeddings import Embedder

    embedder = Embedder()
    rows = [row for name in SAMPLES for row in gated_rows(name, embedder)]
    x = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    model, mean, scale = fit(x, y)
    names = [f.name for f in fields(Signals)]
    fitted = {n: (round(float(m), 4), round(float(s), 4), round(float(c), 4))
              for n, m, s, c in zip(names, mean, scale, model.coef_[0])}
    p = model.predict_proba((x - mean) / scale)[:, 1]
    passes = passing(p, y)
    report = {"rows": len(rows), "answerable": int(y.sum()), "FITTED": fitted,
              "INTERCEPT": round(float(model.intercept_[0]), 4), "passing_by_threshold": passes}
    if args.leave_one_out:
        report["leave_one_out"] = left_out(x, y)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{len(rows)} questions gate 1 declines, {int(y.sum())} of them answerable")
    print(f"FITTED = {fitted}\nINTERCEPT = {report['INTERCEPT']}")
    for t, n in passes.items():
        print(f"threshold {t}: passes {n['answerable']} answerable, {n['out_of_scope']} out of scope")
    if args.leave_one_out:
        print(f"left out, ROC AUC {report['leave_one_out']['auc']}")
        for t, n in report["leave_one_out"]["passing_by_threshold"].items():
            print(f"  threshold {t}: passes {n['answerable']} answerable, {n['out_of_scope']} out of scope")


if __name__ == "__main__":
    main()
