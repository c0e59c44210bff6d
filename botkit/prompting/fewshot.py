"""Few-shot examples: the brand's file plus those people's agreed choices added (the `fewshot_examples`
table), embedded once, and the k most relevant picked per request with langchain-core's example
selectors (semantic similarity, or max-marginal-relevance for variety), or the same typical ones for
every request (`fixed`: the prompt's start repeats, so the engine reads it once)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import yaml
from langchain_core.example_selectors import (
    MaxMarginalRelevanceExampleSelector,
    SemanticSimilarityExampleSelector,
)
from langchain_core.vectorstores import InMemoryVectorStore

from botkit.errors import BotkitError


def load_examples(path: Path) -> list[dict]:
    """Read `examples: [{input, output}, ...]` from a YAML file."""
    if not path.exists():
        raise BotkitError(f"few-shot file {path} not found")
    data = yaml.safe_load(path.read_text()) or {}
    examples = data.get("examples", data) if isinstance(data, dict) else data
    if not isinstance(examples, list) or not all(
        isinstance(e, dict) and isinstance(e.get("input"), str) and isinstance(e.get("output"), str) for e in examples
    ):
        raise BotkitError(f"{path}: expected a list 'examples' of {{input, output}} strings")
    return [{"input": e["input"], "output": e["output"]} for e in examples]


def added_examples(db) -> list[dict]:
    """The examples added from agreed rankings (`add_example`), oldest first."""
    return [{"input": r["input"], "output": r["output"]}
            for r in db.query("SELECT input, output FROM fewshot_examples ORDER BY id")]


def added_stamp(db) -> tuple[int, int]:
    """Changes whenever an example is added or removed: (count, newest id)."""
    row = next(db.query("SELECT count(*) AS n, coalesce(max(id), 0) AS last FROM fewshot_examples"))
    return row["n"], row["last"]


def add_example(db, text: str, output: str, *, pair_id: int | None = None, annotators: int = 0) -> bool:
    """Add one example (a question and the answer people chose); False when it is already there."""
    from botkit.sessions import now

    cursor = db.execute(
        "INSERT INTO fewshot_examples (input, output, pair_id, annotators, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING", [text.strip(), output.strip(), pair_id, annotators, now()])
    return cursor.rowcount > 0


class FewShotExamples:
    """Holds examples with their embeddings and selects the relevant ones for a message."""

    def __init__(self, examples: list[dict], embeddings, k: int = 2, selection: str = "similarity",
                 pinned: list[dict] = ()):
        self.examples = examples
        self.pinned = list(pinned)  # `fixed` takes these first (the newest of people's agreed choices)
        self.embeddings = embeddings
        self.k = k
        self.selector = None
        self.fixed = selection == "fixed"
        if examples and k > 0 and not self.fixed:
            cls = MaxMarginalRelevanceExampleSelector if selection == "mmr" else SemanticSimilarityExampleSelector
            extra = {"fetch_k": min(len(examples), 4 * k)} if selection == "mmr" else {}
            self.selector = cls.from_examples(
                examples, embeddings, InMemoryVectorStore, k=min(k, len(examples)), input_keys=["input"], **extra
            )

    @functools.cached_property
    def _typical(self) -> list[dict]:
        """`fixed` selection, the same examples for every message, so the prompt's start (system prompt and
        examples) is identical from one question to the next and the engine reads it once (prefix caching)
        instead of on every answer: the pinned ones (people's newest agreed choices), then the questions
        among the rest nearest the centre of them all."""
        if not self.examples or self.k <= 0:
            return []
        chosen = self.pinned[:self.k]
        rest = [e for e in self.examples if e not in chosen]
        pool = [e for e in rest if e["input"].rstrip().endswith("?")] or rest
        if len(chosen) < self.k and pool:
            vectors = np.asarray(self.embeddings.embed_documents([e["input"] for e in pool]))
            nearest = np.argsort(-(vectors @ vectors.mean(axis=0)), kind="stable")[:self.k - len(chosen)]
            chosen += [pool[i] for i in sorted(nearest)]
        return chosen

    def select(self, message: str) -> list[dict]:
        """The most relevant examples for `message`, most relevant first."""
        if self.fixed:
            return [{"input": e["input"], "output": e["output"]} for e in self._typical]
        if self.selector is None:
            return []
        return [{"input": e["input"], "output": e["output"]} for e in self.selector.select_examples({"input": message})]
