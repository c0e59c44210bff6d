"""Retrieval latency as the knowledge base grows: p50/p95 of `KnowledgeBase.search` (query embedding +
Chroma query, top 4) and of the Chroma query alone, at 1k, 10k and 100k chunks.

    python bench/retrieval.py [--sizes 1000 10000 100000] [--queries 40] [--json]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
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
