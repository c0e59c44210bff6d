"""A cross-encoder that reranks evidence sentences: MiniLM fine-tuned on (question, sentence) pairs of the
knowledge base itself (`botkit train reranker`), loaded once and fused with `select_evidence`'s score."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from botkit.errors import BotkitError

# Weight of the cross-encoder's probability beside `select_evidence`'s score (cosine + cues, whose cue
# weights are 0.05-0.15): large enough to reorder close candidates, not to outvote the cosine's gaps.
FUSION_WEIGHT = 0.2
MAX_TOKENS = 128  # a question and one sentence with its section path fit well within this
RERANKER_DIR = "reranker"  # under BOTKIT_HOME/models: the newest trained reranker


def reranker_path(home: Path) -> Path:
    """Where `botkit train reranker` saves the reranker of the knowledge base in `home`."""
    return Path(home) / "models" / RERANKER_DIR


def passage(title: str, text: str) -> str:
    """The text a sentence is scored by: its section path, then the sentence (as `select_evidence` reads it)."""
    return f"{title}: {text}" if title else text


@functools.cache
def _load(path: str, stamp: float):
    """The cross-encoder in `path`, once per process (`stamp`, its weights' mtime, loads a retrained one)."""
    from sentence_transformers import CrossEncoder

    return CrossEncoder(path, local_files_only=True, max_length=MAX_TOKENS)


class Reranker:
    """Scores (question, passage) pairs with a trained cross-encoder: the probability that the passage
    answers the question."""

    def __init__(self, path: Path):
        path = Path(path)
        weights = path / "model.safetensors"
        if not weights.exists():
            raise BotkitError(f"no trained reranker in {path}: run `botkit train reranker` first")
        self.path = path
        self.model = _load(str(path), weights.stat().st_mtime)

    def score(self, question: str, passages: list[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.model.predict([(question, p) for p in passages], batch_size=32,
                                             show_progress_bar=False), dtype=np.float32)

    def fuse(self, question: str, passages: list[str], scores: np.ndarray, weight: float = FUSION_WEIGHT
             ) -> np.ndarray:
        """`scores` (one per passage, `select_evidence`'s) with the cross-encoder's probability added."""
        return np.asarray(scores, dtype=np.float32) + weight * self.score(question, passages)


def load_reranker(home: Path) -> Reranker | None:
    """The trained reranker of `home`, or None when none was trained."""
    path = reranker_path(home)
    return Reranker(path) if (path / "model.safetensors").exists() else None
