"""Does a reranker pick the answer sentence more often than `select_evidence`'s ranking? Top-1 and top-3 on the
eval questions, same candidates for all. Two rerankers: a cross-encoder trained on pairs synthesized from the
knowledge base, or the chat model's likelihood of the question after each sentence (`botkit.query_likelihood`).

    python bench/reranker.py [--kb kettlebrook|helpdesk|PATH] [--questions FILE] [--model DIR] [--save DIR]
                             [--max-steps N] [--learning-rate LR] [--json]
    python bench/reranker.py --scorer query-likelihood [--kb ...] [--questions FILE] [--out-of-scope FILE] [--json]

The knowledge base (a sample's name, or a folder with knowledge/ and eval/questions.jsonl) is ingested
into a throwaway home; each question with an expected fact is retrieved as botkit does (a follow-up
with its previous question), and every candidate sentence `select_evidence` ranks is kept (no margin,
no cap). Rankings: (a) today's `select_evidence` order, (b) the cross-encoder alone, (c) today's score
plus `FUSION_WEIGHT` x the cross-encoder's probability. A sentence is right when it holds the expected
fact by the grader's own matching. The cross-encoder is trained here, on pairs synthesized from the
ingested chunks only (never the eval questions), unless --model names one already trained.

Query likelihood scores only today's top `QL_DEPTH` candidates (what answering could afford) and is fused with
today's score over the top 3, 5 or 8 (a weight sweep, and reciprocal-rank fusion); with --out-of-scope it also
reports how well its scores tell answerable questions from out-of-scope ones (ROC AUC).
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
# Query likelihood: candidates scored (today's top), fusion depths, weights of the mean log-probability per question
# token (its spread between a question's candidates is ~0.2-1.5 nats) and reciprocal-rank fusion's constant.
QL_DEPTH = 8
QL_DEPTHS = (3, 5, 8)
QL_SWEEP = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
RRF_K = 60
# Query likelihood's prompt (UPR, Sachan et al. 2022): the instruction before the passage, so every candidate's chat
# starts the same and llama.cpp reads that start once. Of the prompts tried, the best on Kettlebrook (bench/README.md).
INSTRUCTION = "Write a question a customer might ask that this passage answers."


def passage_chat(passage: str) -> list[dict]:
    """The chat whose reply is scored: the instruction, then the passage."""
    return [{"role": "user", "content": f"{INSTRUCTION}\n\nPassage: {passage}"}]


def question_likelihoods(engine, question: str, passages: list[str]) -> np.ndarray:
    """The mean log-probability per token of `question` as the engine's reply to each passage's chat (higher: the
    passage reads more as one that answers it), through `Engine.score`, one passage at a time."""
    tokens = max(1, engine.count_text(question))
    return np.array([engine.score(passage_chat(p), [question])[0] / tokens for p in passages])


def question_prior(engine, question: str) -> float:
    """The mean log-probability per token of `question` with no passage: the likelihoods minus it (pointwise mutual
    information) compare questions with each other, for the answerable / out-of-scope reading."""
    chat = [{"role": "user", "content": INSTRUCTION.replace(" that this passage answers", "")}]
    return engine.score(chat, [question])[0] / max(1, engine.count_text(question))


def candidate_text(sentence: str, chunk: Chunk) -> str:
    """What the cross-encoder reads: a FAQ answer with its question, else the sentence with its section path."""
    faq = chunk.text[2:].split("\nA:", 1)[0].strip() if chunk.text.startswith("Q:") and "\nA:" in chunk.text else ""
    return passage(chunk.title, sentence, faq)


def hits(order: np.ndarray, right: list[bool], k: int) -> bool:
    return any(right[i] for i in order[:k])


def candidates(bot, item: dict) -> tuple[str, list, list[bool]]:
    """The question as retrieval reads it, every candidate best first by today's score, and which hold the fact."""
    s = bot.settings
    # A follow-up is asked with its previous question, as the dialogue reads it (bench/retrieval.py too).
    query = f"{item['previous']} {item['question']}" if item.get("kind") == "follow-up" else item["question"]
    chunks = bot.knowledge.search(query, s.top_k, s.min_relevance)
    # No gate, no margin, no cap.
    evidence = select_evidence(query, chunks, bot.embedder, min_score=-np.inf, max_sentences=10**6, margin=np.inf)
    return query, evidence, [_has(e.sentence, item.get("expected", [])) for e in evidence]


def fused_order(today: np.ndarray, other: np.ndarray, depth: int, weight: float | None) -> np.ndarray:
    """Today's order with its top `depth` reordered by today's score + `weight` x `other` (None: reciprocal-rank
    fusion of the two orders); `today` is sorted best first."""
    top, k = np.arange(min(depth, len(today))), min(depth, len(today))
    if weight is None:
        ranks = np.empty(k), np.empty(k)
        ranks[0][np.argsort(-today[:k], kind="stable")] = np.arange(k)
        ranks[1][np.argsort(-other[:k], kind="stable")] = np.arange(k)
        fused = 1 / (RRF_K + ranks[0]) + 1 / (RRF_K + ranks[1])
    else:
        fused = today[:k] + weight * other[:k]
    return np.concatenate([top[np.argsort(-fused, kind="stable")], np.arange(k, len(today))])


def auc(positive: list[float], negative: list[float]) -> float:
    """The chance an answerable question scores above an out-of-scope one (ties half)."""
    if not positive or not negative:
        return float("nan")
    pairs = [(p > n) + 0.5 * (p == n) for p in positive for n in negative]
    return round(sum(pairs) / len(pairs), 3)


def measure_query_likelihood(bot, questions: list[dict], out_of_scope: list[dict]) -> dict:
    """Query likelihood over today's top QL_DEPTH candidates of each question: alone, fused, and as a signal that the
    question is answerable at all."""
    engine = bot.engine
    top1, top3, seconds, details = {}, {}, [], []
    signals = {"answerable": [], "out_of_scope": []}
    for kind, items in (("answerable", questions), ("out_of_scope", out_of_scope)):
        for item in items:
            query, evidence, right = candidates(bot, item)
            if not evidence:
                continue
            today = np.array([e.score for e in evidence])
            started = time.perf_counter()
            ql = question_likelihoods(engine, query, [candidate_text(e.sentence, e.chunk)
                                                      for e in evidence[:QL_DEPTH]])
            seconds.append(time.perf_counter() - started)
            prior = question_prior(engine, query)
            signals[kind].append({"question": item["question"], "score": float(today[0]), "ql_first": float(ql[0]),
                                  "ql_best": float(ql.max()), "prior": prior, "pmi_first": float(ql[0] - prior),
                                  "pmi_best": float(ql.max() - prior)})
            if kind != "answerable":
                continue
            ql_all = np.concatenate([ql, np.full(len(today) - len(ql), -np.inf)])
            orders = {"today": np.arange(len(today)), "query_likelihood": np.concatenate(
                [np.argsort(-ql, kind="stable"), np.arange(len(ql), len(today))])}
            for depth in QL_DEPTHS:
                orders[f"rrf@{depth}"] = fused_order(today, ql_all, depth, None)
                for w in QL_SWEEP:
                    orders[f"w{w}@{depth}"] = fused_order(today, ql_all, depth, w)
            for name, order in orders.items():
                top1[name] = top1.get(name, 0) + hits(order, right, 1)
                top3[name] = top3.get(name, 0) + hits(order, right, 3)
            details.append({"question": item["question"], "right": [i for i, r in enumerate(right) if r][:3],
                            "ql": [round(x, 3) for x in ql], "today": [round(x, 3) for x in today[:QL_DEPTH]]})
    ms = sorted(1000 * x for x in seconds)
    with_fact = sum(bool(d["right"]) for d in details)
    report = {"questions": len(questions), "fact_among_candidates": with_fact,
              "fact_in_top_depth": sum(bool(d["right"]) and d["right"][0] < QL_DEPTH for d in details),
              "top1": top1, "top3": top3,
              "score_ms_p50": round(ms[len(ms) // 2], 1) if ms else 0.0,
              "score_ms_p95": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1) if ms else 0.0,
              "candidates_scored": QL_DEPTH, "details": details}
    if out_of_scope:
        # Higher = answerable, for each signal: today's best score, the likelihoods, and them over the prior.
        report["answerable_auc"] = {name: auc([x[name] for x in signals["answerable"]],
                                              [x[name] for x in signals["out_of_scope"]])
                                    for name in ("score", "ql_first", "ql_best", "pmi_first", "pmi_best")}
        report["signals"] = signals
    return report


def measure(bot, questions: list[dict], reranker: Reranker) -> dict:
    rankings = {"today": [], "cross_encoder": [], "fused": []}
    sweep = {w: [] for w in SWEEP}
    seconds, details, with_fact = [], [], 0
    for item in questions:
        query, evidence, right = candidates(bot, item)
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
    parser.add_argument("--questions", type=Path, help="questions to ask instead of the knowledge base's eval/")
    parser.add_argument("--out-of-scope", type=Path, help="out-of-scope questions (query likelihood; default: the "
                        "knowledge base's eval/out_of_scope.jsonl unless --questions is given)")
    parser.add_argument("--scorer", choices=("cross-encoder", "query-likelihood"), default="cross-encoder")
    parser.add_argument("--model", type=Path, help="a trained cross-encoder (default: train one here)")
    parser.add_argument("--max-steps", type=int, default=-1, help="training steps (-1: one epoch)")
    parser.add_argument("--learning-rate", type=float, default=RerankerConfig.learning_rate)
    parser.add_argument("--save", type=Path, help="keep the trained cross-encoder in this folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = kb_folder(args.kb)
    questions = [q for q in read_jsonl(args.questions or folder / "eval" / "questions.jsonl") if q.get("expected")]
    scope = args.out_of_scope or (None if args.questions else folder / "eval" / "out_of_scope.jsonl")
    out_of_scope = read_jsonl(scope) if scope and scope.exists() else []
    with tempfile.TemporaryDirectory(prefix="botkit-reranker-bench-", ignore_cleanup_errors=True) as home:
        os.environ["BOTKIT_HOME"] = home
        bot = Bot(load_settings(home=Path(home)))
        bot.knowledge.ingest(folder / "knowledge")
        report = {"kb": args.kb, "questions_file": str(args.questions or ""), "scorer": args.scorer}
        if args.scorer == "query-likelihood":
            report |= measure_query_likelihood(bot, questions, out_of_scope)
        else:
            report |= measure(bot, questions, Reranker(args.model or train_here(bot, args, home, report)))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    n = report["questions"]
    print(f"{args.kb}: {n} questions, the fact among the candidates for {report['fact_among_candidates']}")
    if args.scorer == "query-likelihood":
        print(f"  ... among today's top {QL_DEPTH} for {report['fact_in_top_depth']}")
        for name in report["top1"]:
            print(f"  {name:16} top-1 {report['top1'][name]}/{n}  top-3 {report['top3'][name]}/{n}")
        if "answerable_auc" in report:
            print(f"  answerable vs out of scope, ROC AUC: {report['answerable_auc']}")
    else:
        for name in ("today", "cross_encoder", "fused"):
            print(f"  {name:14} top-1 {report[name]['top1']}/{n}  top-3 {report[name]['top3']}/{n}")
        print(f"  fused top-1 by weight (only {FUSION_WEIGHT} fixed in advance): {report['fused_top1_by_weight']}")
    print(f"  scoring p50 {report['score_ms_p50']} ms, p95 {report['score_ms_p95']} ms a question")
    if "training" in report:
        print(f"  training: {report['training']}")


def train_here(bot, args, home: str, report: dict) -> Path:
    """A cross-encoder trained on pairs synthesized from the ingested chunks; its training figures go in `report`."""
    stored = bot.knowledge.collection.get(include=["documents", "metadatas"])
    # In id order: Chroma returns them in no fixed order, and the pairs drawn depend on it.
    chunks = [(m.get("title", ""), d, m["source"]) for _, d, m in sorted(
        zip(stored["ids"], stored["documents"], stored["metadatas"]), key=lambda row: row[0])]
    config = RerankerConfig(max_steps=args.max_steps, learning_rate=args.learning_rate)
    model = args.save or Path(home) / "reranker"
    report["training"] = train_cross_encoder(synthesize_pairs(chunks, config), model, config) | {
        "config": config.to_dict()}
    return model


if __name__ == "__main__":
    main()
