"""`KnowledgeBase`: idempotent ingestion into a persistent Chroma collection, and relevance search.

File hashes live in SQLite (`knowledge_files`); re-ingesting skips unchanged files, replaces changed
ones (new chunks are written before old ones are deleted, so a crash loses nothing) and removes
chunks of files that disappeared from an ingested folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sqlite_utils

from botkit.embeddings import Embedder
from botkit.errors import BotkitError
from botkit.knowledge.chunking import SectionChunker
from botkit.knowledge.lexical import LexicalIndex, reciprocal_rank_fusion
from botkit.knowledge.loaders import load_sections, supported_suffixes
from botkit.knowledge.names import as_kind, kinds
from botkit.knowledge.sentences import split_sentences
from botkit.knowledge.terms import STORED_IRREGULAR, drop_final_e, terms

COLLECTION = "knowledge"
# A long chunk's cosine is diluted by its other sentences: one under `min_relevance` still counts when one
# of its sentences alone is this close to the query ("Companies can pay by invoice on 30-day terms" inside a
# paragraph about away days).
SENTENCE_RELEVANCE = 0.4


@dataclass
class Chunk:
    id: str
    text: str
    source: str
    title: str
    score: float = 0.0


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    chunks: int = 0

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("added", "updated", "unchanged", "removed", "errors", "chunks")}


def titled_sentences(title: str, text: str) -> list[str]:
    """A chunk's sentences each read with its section title, as search judges a long chunk by its closest
    sentence; [] for a chunk of one sentence (judged whole)."""
    sentences = split_sentences(text)
    return [f"{title}: {s}" for s in sentences] if len(sentences) > 1 else []


def open_chroma(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


class KnowledgeBase:
    def __init__(self, db: sqlite_utils.Database, chroma_path: Path, embedder: Embedder,
                 chunk_tokens: int = 160, chunk_overlap: int = 32):
        self.db = db
        self.embedder = embedder
        self.chroma_path = chroma_path
        self._open_collection()
        self.chunker = SectionChunker(embedder.tokenizer, chunk_tokens, chunk_overlap)

    def _open_collection(self) -> None:
        # embedding_function=None: Chroma's default would try to download a model.
        self.collection = open_chroma(self.chroma_path).get_or_create_collection(
            COLLECTION, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        self._seen_state = self._files_state()

    def _files_state(self):
        return self.db.execute("select count(*), max(ingested_at), sum(chunks) from knowledge_files").fetchone()

    def _sync(self) -> None:
        """Reopen Chroma when another process (`botkit ingest` beside a running app) changed it:
        an open Chroma client never sees segments written by another process."""
        if self._files_state() != self._seen_state:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
            self._open_collection()

    def count(self) -> int:
        self._sync()
        return self.collection.count()

    def files(self) -> list[dict]:
        return list(self.db["knowledge_files"].rows_where(order_by="path"))

    @staticmethod
    def files_under(path: Path) -> list[Path]:
        """The supported files `ingest(path)` would read."""
        if not path.exists():
            raise BotkitError(f"{path}: no such file or folder")
        if path.is_file():
            return [path.resolve()]
        suffixes = supported_suffixes()
        return sorted(
            p.resolve() for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in suffixes
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )

    def ingest(self, path: Path, on_file: Callable[[Path], None] | None = None) -> IngestReport:
        path = Path(path).expanduser()
        self._sync()
        files = self.files_under(path)
        report = IngestReport()
        for file in files:
            self._ingest_file(file, report)
            if on_file:
                on_file(file)
        if path.is_dir():
            prefix = str(path.resolve()).rstrip("/") + "/"
            present = {str(f) for f in files}
            for row in self.db.query("select path from knowledge_files where path like ?", [prefix + "%"]):
                if row["path"] not in present:
                    self.remove(row["path"])
                    report.removed.append(row["path"])
        self._seen_state = self._files_state()  # our own writes need no reopen
        if path.is_file() and report.errors:
            raise BotkitError(report.errors[0])
        return report

    def _ingest_file(self, file: Path, report: IngestReport) -> None:
        source = str(file)
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        known = next(self.db["knowledge_files"].rows_where("path = ?", [source]), None)
        if known and known["sha256"] == digest:
            report.unchanged.append(source)
            return
        try:
            sections = load_sections(file)
        except BotkitError as exc:
            report.errors.append(str(exc))  # the file's previous chunks, if any, stay searchable
            return
        pieces = self.chunker.chunks(sections)
        chunks = [p.text for p in pieces]
        key = hashlib.sha1(source.encode()).hexdigest()[:12]
        ids = [f"{key}:{digest[:12]}:{i}" for i in range(len(chunks))]
        # Embed each chunk with its section path: "Shipping › Canada" + "$24.95" retrieves better than "$24.95".
        vectors = self.embedder.encode([f"{p.title}: {p.text}" for p in pieces])
        for start in range(0, len(ids), 512):
            self.collection.upsert(
                ids=ids[start:start + 512],
                embeddings=vectors[start:start + 512].tolist(),
                documents=chunks[start:start + 512],
                metadatas=[{"source": source, "title": p.title, "sha256": digest} for p in pieces[start:start + 512]],
            )
        if known:
            stale = self.collection.get(where={"source": source}, include=[])["ids"]
            stale = [i for i in stale if i not in set(ids)]
            if stale:
                self.collection.delete(ids=stale)
        self.db["knowledge_files"].upsert(
            {"path": source, "sha256": digest, "chunks": len(chunks),
             # Microseconds: the timestamp doubles as the change marker other processes watch.
             "ingested_at": datetime.now(timezone.utc).isoformat(),
             "terms": " ".join(sorted(terms(" ".join(f"{p.title} {p.text}" for p in pieces))))}, pk="path"
        )
        (report.updated if known else report.added).append(source)
        report.chunks += len(chunks)

    def remove(self, source: str) -> None:
        self.collection.delete(where={"source": source})
        self.db["knowledge_files"].delete_where("path = ?", [source])

    def vocabulary(self) -> set[str]:
        """Stems of every content word in the knowledge base (cached until the files change)."""
        state = self._files_state()
        if getattr(self, "_vocabulary_state", None) != state:
            words: set[str] = set()
            for row in self.db.query("select terms from knowledge_files"):
                # Stems stored before a final "e" was dropped ("cheque") read as today's ("chequ"); today's stay
                # as stored: "three" is stored as "thre", which dropping again would turn into "thr".
                stored = (row["terms"] or "").split()
                words.update(stored)
                words.update(drop_final_e(w) for w in stored)
                words.update(STORED_IRREGULAR[w] for w in stored if w in STORED_IRREGULAR)
            self._vocabulary, self._vocabulary_state = words, state
        return self._vocabulary

    def _lexical_index(self) -> LexicalIndex:
        """The BM25 index of every chunk, rebuilt when the knowledge base changed (here or in another process)."""
        state = (self._files_state(), self.collection.count())
        if getattr(self, "_lexical_state", None) != state:
            stored = self.collection.get(include=["documents", "metadatas"])
            titles = [meta.get("title", "") for meta in stored["metadatas"]]
            self._lexical, self._lexical_state = LexicalIndex(stored["ids"], titles, stored["documents"]), state
        return self._lexical

    def search(self, query: str, k: int = 4, min_relevance: float = 0.0, by_kind: bool = True) -> list[Chunk]:
        """The `k` best chunks for `query` by reciprocal-rank fusion of dense (MiniLM) and BM25 rankings,
        leaving out those whose cosine similarity is below `min_relevance` unless one of their sentences is
        close enough alone (`SENTENCE_RELEVANCE`). `Chunk.score` is the cosine (of that sentence then). A query
        naming a product whose kind the knowledge base spells out is searched as that kind too, at half weight
        (unless not `by_kind`: what is said about that product itself, e.g. the facts a line of copy may use)."""
        if not query.strip() or self.count() == 0:
            return []
        index = self._lexical_index()
        # "Is the Zephyr Mini dishwasher safe?" is answered by a rule for every kettle ("Never put a kettle base
        # in a dishwasher"), which names no product: look for the question put as the product's kind too.
        named = kinds(query, index.texts) if by_kind else []
        queries = [query] + ([as_kind(query, named)] if named else [])
        vectors = np.asarray([self.embedder.embed_query(q) for q in queries], dtype=np.float32)
        # Each ranking looks deeper than k: a chunk ranked 6th by both should beat one only dense likes.
        pool = min(self.collection.count(), max(4 * k, 20))
        dense = self.collection.query(query_embeddings=vectors.tolist(), n_results=pool,
                                      include=["documents", "metadatas", "embeddings"])
        found = {}
        for ids, texts, metas, embeddings in zip(dense["ids"], dense["documents"], dense["metadatas"],
                                                 dense["embeddings"]):
            found.update({cid: (text, meta, float(np.max(vectors @ np.asarray(e, dtype=np.float32))))
                          for cid, text, meta, e in zip(ids, texts, metas, embeddings)})
        lexical = [index.search(q, pool) for q in queries]
        unseen = list({cid for ranking in lexical for cid in ranking if cid not in found})
        if unseen:
            extra = self.collection.get(ids=unseen, include=["documents", "metadatas", "embeddings"])
            cosines = np.max(np.asarray(extra["embeddings"], dtype=np.float32) @ vectors.T, axis=1)
            found.update({cid: (text, meta, float(cos)) for cid, text, meta, cos in zip(
                extra["ids"], extra["documents"], extra["metadatas"], cosines)})
        chunks = []
        # Lexical first: on a tie, the exact word ("E-408") beats the dense near-miss ("E-512").
        # The kind's rankings count half: they add the rules for every kettle, the product's own pages stay.
        weights = [1.0 if i == 0 else 0.5 for i in range(len(queries))] * 2
        for cid in reciprocal_rank_fusion(lexical + list(dense["ids"]), weights=weights):
            if cid not in found:
                continue  # removed since the index was built (another process is ingesting)
            text, meta, score = found[cid]
            if score < min_relevance:
                score = max([score] + [self._best_sentence(q, meta.get("title", ""), text) for q in queries])
            if score >= min_relevance:
                chunks.append(Chunk(cid, text, meta["source"], meta.get("title", ""), round(score, 4)))
            if len(chunks) == k:
                break
        return chunks

    def _best_sentence(self, query: str, title: str, text: str) -> float:
        """The cosine of the chunk's sentence closest to `query` (each read with its section title) when
        it reaches `SENTENCE_RELEVANCE`, else 0."""
        sentences = titled_sentences(title, text)
        if not sentences:
            return 0.0  # a one-sentence chunk was judged whole already
        best = float(np.max(self.embedder.similarity(query, sentences)))
        return best if best >= SENTENCE_RELEVANCE else 0.0
