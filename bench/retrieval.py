"""Retrieval latency as the knowledge base grows: p50/p95 of `KnowledgeBase.search` (query embedding +
Chroma query + BM25, fused, top 4) and of the Chroma query alone, at 1k, 10k and 100k chunks; with
--quality, retrieval and evidence quality on both sample knowledge bases instead.

    python bench/retrieval.py [--sizes 1000 10000 100000] [--queries 40] [--json]
    python bench/retrieval.py --quality [--json]

Quality: for each question with expected facts (examples/*/eval/questions.jsonl), is one of its
spellings in the top-k chunks (k = `top_k`) and in the top 8, in the top evidence sentence, and in
any selected sentence; out-of-scope questions declined for lack of evidence or vocabulary; and the
milliseconds of search + evidence selection per question (each sample ingested for real first).

The sample brand is ingested for real; the rest of each size is its chunks again under other
names, with vectors near theirs (the real vector plus noise, normalised), so the index holds many
close neighbours as a large real knowledge base does. Embedding 100k real chunks would take over an
hour on 2 cores and measure the embedder, not retrieval.
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
from botkit.jsonl import read_jsonl
from botkit.knowledge.terms import unknown_share
from botkit.prompting.brand import sample_brand_dir


def percentile_ms(seconds: list[float], share: float) -> float:
    ordered = sorted(seconds)
    return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def grow(kb, real: dict, size: int, rng: np.random.Generator) -> None:
    """Add near-copies of the real chunks until the collection holds `size` chunks."""
    have = kb.collection.count()
    vectors = np.array(real["embeddings"], dtype=np.float32)
    while have < size:
        n = min(5000, size - have)  # under Chroma's largest batch
        picks = rng.integers(0, len(vectors), n)
        noisy = vectors[picks] + rng.normal(0, 0.35 / np.sqrt(vectors.shape[1]), (n, vectors.shape[1]))
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        kb.collection.add(ids=[f"synthetic-{have + i}" for i in range(n)], embeddings=noisy.tolist(),
                          documents=[real["documents"][p] for p in picks],
                          metadatas=[{"source": f"synthetic/{have + i}.md",
                                      "title": real["metadatas"][p].get("title", "")} for i, p in enumerate(picks)])
        have += n


def measure(kb, embedder, questions: list[str]) -> dict:
    searches, queries = [], []
    for q in questions:
        started = time.perf_counter()
        kb.search(q, 4)
        searches.append(time.perf_counter() - started)
        vector = embedder.embed_query(q)
        started = time.perf_counter()
        kb.collection.query(query_embeddings=[vector], n_results=4, include=["documents", "metadatas", "distances"])
        queries.append(time.perf_counter() - started)
    return {"search_p50_ms": percentile_ms(searches, 0.5), "search_p95_ms": percentile_ms(searches, 0.95),
            "chroma_query_p50_ms": percentile_ms(queries, 0.5), "chroma_query_p95_ms": percentile_ms(queries, 0.95)}


def has(text: str, spellings: list[str]) -> bool:
    return any(s.lower() in text.lower() for s in spellings)


def quality(bot, folder: Path) -> dict:
    """Retrieval and evidence figures for one sample knowledge base (see the module docstring)."""
    kb, s = bot.knowledge, bot.settings
    started = time.perf_counter()
    kb.ingest(folder / "knowledge")
    ingest_seconds = time.perf_counter() - started
    counts = {"top_k": 0, "top_8": 0, "top_sentence": 0, "within_selected": 0}
    seconds = []
    questions = list(read_jsonl(folder / "eval" / "questions.jsonl"))
    for item in questions:
        # A follow-up is asked with its previous question, as the dialogue reads it.
        query = f"{item['previous']} {item['question']}" if item.get("kind") == "follow-up" else item["question"]
        started = time.perf_counter()
        chunks = kb.search(query, s.top_k, s.min_relevance)
        evidence = select_evidence(query, chunks, bot.embedder, min_score=s.min_evidence)
        seconds.append(time.perf_counter() - started)
        wide = kb.search(query, 8, s.min_relevance)
        counts["top_k"] += any(has(c.text, item["expected"]) for c in chunks)
        counts["top_8"] += any(has(c.text, item["expected"]) for c in wide)
        counts["top_sentence"] += bool(evidence) and has(evidence[0].sentence, item["expected"])
        counts["within_selected"] += any(has(e.sentence, item["expected"]) for e in evidence)
    declined = 0
    out_of_scope = list(read_jsonl(folder / "eval" / "out_of_scope.jsonl"))
    for item in out_of_scope:
        chunks = kb.search(item["question"], s.top_k, s.min_relevance)
        evidence = select_evidence(item["question"], chunks, bot.embedder, min_score=s.min_evidence)
        declined += not evidence or unknown_share(item["question"], kb.vocabulary()) >= 0.5
    return {"questions": len(questions), **counts, "out_of_scope": len(out_of_scope),
            "out_of_scope_declined": declined, "ms_p50": percentile_ms(seconds, 0.5),
            "ms_p95": percentile_ms(seconds, 0.95), "ingest_seconds": round(ingest_seconds, 1)}


def main_quality(as_json: bool) -> None:
    results = {}
    for name in ("kettlebrook", "helpdesk"):
        with tempfile.TemporaryDirectory(prefix="botkit-retrieval-bench-") as home:
            os.environ["BOTKIT_HOME"] = home
            bot = Bot(load_settings(home=Path(home)))
            bot.embedder.encode(["warm-up"])  # loads the embedder's weights outside the timings
            results[name] = r = quality(bot, sample_brand_dir().parent / name)
        if not as_json:
            n = r["questions"]
            print(f"{name}: expected fact in top {bot.settings.top_k} chunks {r['top_k']}/{n}, top 8 {r['top_8']}/{n}; "
                  f"in the top evidence sentence {r['top_sentence']}/{n}, "
                  f"in a selected one {r['within_selected']}/{n}; "
                  f"out of scope declined {r['out_of_scope_declined']}/{r['out_of_scope']}; "
                  f"search + evidence p50 {r['ms_p50']} ms, p95 {r['ms_p95']} ms", flush=True)
    if as_json:
        print(json.dumps(results, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--quality", action="store_true", help="quality on both sample knowledge bases")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quality:
        return main_quality(args.json)
    lines = (sample_brand_dir() / "eval" / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    questions = (questions * (args.queries // len(questions) + 1))[:args.queries]
    results = []
    with tempfile.TemporaryDirectory(prefix="botkit-retrieval-bench-") as home:
        os.environ["BOTKIT_HOME"] = home
        bot = Bot(load_settings(home=Path(home)))
        kb = bot.knowledge
        kb.ingest(sample_brand_dir() / "knowledge")
        real = kb.collection.get(include=["embeddings", "documents", "metadatas"])
        kb.search(questions[0], 4)  # warm-up: loads the embedder's weights
        rng = np.random.default_rng(0)
        for size in sorted(args.sizes):
            started = time.perf_counter()
            grow(kb, real, size, rng)
            added = time.perf_counter() - started
            kb.search(questions[0], 4)  # rebuilds the BM25 index over the grown collection, outside the timings
            results.append({"chunks": kb.collection.count(), "fill_seconds": round(added, 1),
                            **measure(kb, bot.embedder, questions)})
            if not args.json:
                r = results[-1]
                print(f"{r['chunks']:>7} chunks: search p50 {r['search_p50_ms']} ms, p95 {r['search_p95_ms']} ms; "
                      f"Chroma query alone p50 {r['chroma_query_p50_ms']} ms, p95 {r['chroma_query_p95_ms']} ms",
                      flush=True)
    if args.json:
        print(json.dumps({"queries": args.queries, "top_k": 4, "sizes": results}, indent=2))


if __name__ == "__main__":
    main()
