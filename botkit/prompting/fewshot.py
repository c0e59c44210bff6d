"""Few-shot examples: embedded once, and the k most relevant picked per request with
langchain-core's example selectors (semantic similarity, or max-marginal-relevance for variety)."""

from __future__ import annotations

from pathlib import Path

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


class FewShotExamples:
    """Holds examples with their embeddings and selects the relevant ones for a message."""

    def __init__(self, examples: list[dict], embeddings, k: int = 2, selection: str = "similarity"):
        self.examples = examples
        self.k = k
        self.selector = None
        if examples and k > 0:
            cls = MaxMarginalRelevanceExampleSelector if selection == "mmr" else SemanticSimilarityExampleSelector
            extra = {"fetch_k": min(len(examples), 4 * k)} if selection == "mmr" else {}
            self.selector = cls.from_examples(
                examples, embeddings, InMemoryVectorStore, k=min(k, len(examples)), input_keys=["input"], **extra
            )

    def select(self, message: str) -> list[dict]:
        """The most relevant examples for `message`, most relevant first."""
        if self.selector is None:
            return []
        return [{"input": e["input"], "output": e["output"]} for e in self.selector.select_examples({"input": message})]
