"""Does a cross-encoder trained on pairs synthesized from a knowledge base pick the answer sentence more
often than `select_evidence`'s ranking? Top-1 and top-3 on the eval questions, same candidates for all.

    python bench/reranker.py [--kb kettlebrook|helpdesk|PATH] [--model DIR] [--save DIR] [--json]
                             [--max-steps N] [--learning-rate LR]

The knowledge base (a sample's name, or a folder with knowledge/ and eval/questions.jsonl) is ingested
into a throwaway home; each question with an expected fact is retrieved as botkit does (a follow-up
with its previous question), and every candidate sentence `select_evidence` ranks is kept (no margin,
no cap). Rankings: (a) today's `select_evidence` order, (b) the cross-encoder alone, (c) today's score
plus `FUSION_WEIGHT` x the cross-encoder's probability. A sentence is right when it holds the expected
fact by the grader's own matching. The cross-encoder is trained here, on pairs synthesized from the
ingested chunks only (never the eval questions), unless --model names one already trained.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from botkit.config import load_settings
from botkit.dialogue import Bot
from botkit.evidence import select_evidence
from botkit.feedback.evaluation.grounding import SAMPLE_KBS, _has, sample_kb_dir
from botkit.feedback.training.reranker import Reranker, RerankerConfig, passage, synthesize_pairs, train_cross_encoder
from botkit.jsonl import read_jsonl
from botkit.knowledge.store import Chunk

# Weight of the cross-encoder's probability beside `select_evidence`'s score (cosine + cues, whose cue
# weights are 0.05-0.15), fixed before measuring: enough to reorder close candidates, not to outvote the cosine.
FUSION_WEIGHT = 0.2
SWEEP = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def candidate_text(sentence: str, chunk: Chunk) -> str:
    """What the cross-encoder reads: a FAQ answer with its question, else the sentence with its section path."""
    faq = chunk.text[2:].split("\nA:", 1)[0].strip() if chunk.text.startswith("Q:") and "\nA:" in chunk.text else ""
    return passage(chunk.title, sentence, faq)


def hits(order: np.ndarray, right: list[bool], k: int) -> bool:
    return any(right[i] for i in order[:k])


def measure(bot, questions: list[dict], reranker: Reranker) -> dict:
    s = bot.settings
    rankings = {"today": [], "cross_encoder": [], "fused": []}
    sweep = {w: [] for w in SWEEP}
    seconds, details, with_fact = [], [], 0
    for item in questions:
        # A follow-up is asked with its previous question, as the dialogue reads it (bench/retrieval.py too).
        query = f"{item['previous']} {item['question']}" if item.get("kind") == "follow-up" else item["question"]
        chunks = bot.knowledge.search(query, s.top_k, s.min_relevance)
        # Every candidate, best first by today's score: no gate, no margin, no cap.
        evidence = select_evidence(query, chunks, bot.embedder, min_score=-np.inf, max_sentences=10**6,
                                   margin=np.inf)
        right = [_has(e.sentence, item["expected"]) for e in evidence]
        with_fact += any(right)
        today = np.array([e.score for e in evidence], dtype=np.float32)
        started = time.perf_counter()
        ce = reranker.score(query, [candidate_text(e.sentence, e.chunk) for e in evidence])
        seconds.append(time.perf_counter() - started)
        orders = {"today": np.argsort(-today, kind="stable"), "cross_encoder": np.argsort(-ce, kind="stable"),
                  "fused": np.argsort(-(today + FUSION_WEIGHT * ce), kind="stable")}
        for name, order in orders.items():
            rankings[name].append((hits(order, right, 1), hits(order, right, 3)))
        for w in SWEEP:
            sweep[w].append(hits(np.argsort(-(today + w * ce), kind="stable"), right, 1))
        if evidence and orders["today"][0] != orders["fused"][0]:
            details.append({"question": item["question"], "today": evidence[orders["today"][0]].sentence,
                            "fused": evidence[orders["fused"][0]].sentence,
                            "today_right": right[orders["today"][0]], "fused_right": right[orders["fused"][0]]})
    ms = sorted(1000 * x for x in seconds)
    return {
        "questions": len(questions), "fact_among_candidates": with_fact,
        **{name: {"top1": sum(a for a, _ in r), "top3": sum(b for _, b in r)} for name, r in rankings.items()},
        "fusion_weight": FUSION_WEIGHT,
        # Weights other than FUSION_WEIGHT are picked after seeing these questions: optimistic, for reading only.
        "fused_top1_by_weight": {str(w): sum(v) for w, v in sweep.items()},
        "score_ms_p50": round(ms[len(ms) // 2], 1) if ms else 0.0,
        "score_ms_p95": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1) if ms else 0.0,
        "changed_top1": details,
    }


def kb_folder(kb: str) -> Path:
    return sample_kb_dir(kb) if kb in SAMPLE_KBS else Path(kb).expanduser()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default="helpdesk", help="kettlebrook, helpdesk or a folder with knowledge/ and eval/")
    parser.add_argument("--model", type=Path, help="a trained cross-encoder (default: train one here)")
    parser.add_argument("--max-steps", type=int, default=-1, help="training steps (-1: one epoch)")
    parser.add_argument("--learning-rate", type=float, default=RerankerConfig.learning_rate)
    parser.add_argument("--save", type=Path, help="keep the trained cross-encoder in this folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = kb_folder(args.kb)
    questions = [q for q in read_jsonl(folder / "eval" / "questions.jsonl") if q.get("expected")]
    with tempfile.TemporaryDirectory(prefix="botkit-reranker-bench-", ignore_cleanup_errors=True) as home:
        os.environ["BOTKIT_HOME"] = home
        bot = Bot(load_settings(home=Path(home)))
        bot.knowledge.ingest(folder / "knowledge")
        report = {"kb": args.kb}
        model = args.model
        if model is None:
            stored = bot.knowledge.collection.get(include=["documents", "metadatas"])
            # In id order: Chroma returns them in no fixed order, and the pairs drawn depend on it.
            chunks = [(m.get("title", ""), d, m["source"]) for _, d, m in sorted(
                zip(stored["ids"], stored["documents"], stored["metadatas"]), key=lambda row: row[0])]
            config = RerankerConfig(max_steps=args.max_steps, learning_rate=args.learning_rate)
            rows = synthesize_pairs(chunks, config)
            model = args.save or Path(home) / "reranker"
            report["training"] = train_cross_encoder(rows, model, config) | {"config": config.to_dict()}
        report |= measure(bot, questions, Reranker(model))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    n = report["questions"]
    print(f"{args.kb}: {n} questions, the fact among the candidates for {report['fact_among_candidates']}")
    for name in ("today", "cross_encoder", "fused"):
        print(f"  {name:14} top-1 {report[name]['top1']}/{n}  top-3 {report[name]['top3']}/{n}")
    print(f"  fused top-1 by weight (only {FUSION_WEIGHT} fixed in advance): {report['fused_top1_by_weight']}")
    print(f"  scoring p50 {report['score_ms_p50']} ms, p95 {report['score_ms_p95']} ms a question")
    if "training" in report:
        print(f"  training: {report['training']}")


if __name__ == "__main__":
    main()
