"""Embedding speed (texts/s) of MiniLM on llama.cpp and on transformers, side by side in one run.

Short texts are the sample brand's eval questions (what a chat embeds), chunks are its knowledge base
cut as `botkit ingest` cuts it (~160 tokens). Each engine embeds each set `--rounds` times, alternating
engines, with its vector cache off; the best round counts (the machine is shared). Also: the lowest
cosine between the two engines' vectors over both sets.

    python bench/embeddings.py --json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from botkit.embeddings import Embedder
from botkit.knowledge.chunking import SectionChunker
from botkit.knowledge.loaders import load_sections
from botkit.prompting.brand import sample_brand_dir


def sample_texts(tokenizer) -> dict[str, list[str]]:
    eval_dir, knowledge = sample_brand_dir() / "eval", sample_brand_dir() / "knowledge"
    questions = [json.loads(line)["question"] for line in (eval_dir / "questions.jsonl").read_text().splitlines()
                 if line.strip()]
    chunker = SectionChunker(tokenizer, 160, 32)
    chunks = [c.text for path in sorted(knowledge.iterdir()) for c in chunker.chunks(load_sections(path))]
    return {"short": questions, "chunks": chunks}


def texts_per_second(embedder: Embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder._embed(texts)  # not `encode`: the vector cache would answer the second round
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, help="CPU threads for both engines (default: the physical cores)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    engines = {name: Embedder(engine=name) for name in ("llamacpp", "transformers")}
    if args.threads:
        for embedder in engines.values():
            embedder.use_threads(args.threads)
    texts = sample_texts(engines["transformers"].tokenizer)
    best = {(name, kind): 0.0 for name in engines for kind in texts}
    for _ in range(args.rounds):
        for kind, batch in texts.items():
            for name, embedder in engines.items():
                best[name, kind] = max(best[name, kind], texts_per_second(embedder, batch))
    cosines = [(engines["llamacpp"]._embed(batch) * engines["transformers"]._embed(batch)).sum(1).min()
               for batch in texts.values()]
    result = {f"{name}_{kind}_texts_s": round(rate, 1) for (name, kind), rate in best.items()}
    result.update({f"{kind}_texts": len(batch) for kind, batch in texts.items()},
                  min_cosine=round(float(np.min(cosines)), 6), rounds=args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for kind in texts:
            print(f"{kind} ({len(texts[kind])} texts): llama.cpp {best['llamacpp', kind]:.1f} texts/s, "
                  f"transformers {best['transformers', kind]:.1f} texts/s")
        print(f"lowest cosine between the engines' vectors: {result['min_cosine']}")


if __name__ == "__main__":
    main()
