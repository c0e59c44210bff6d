"""The vectors of every knowledge chunk's sentences, embedded in the background while the server has no
request in, so that answering a question embeds little more than the question: evidence selection and
retrieval's sentence check then find their sentences' vectors in the embedder's memory."""

from __future__ import annotations

import threading
from collections.abc import Callable

from botkit.embeddings import REMEMBERED
from botkit.evidence import candidate_sentences  # evidence selection's own texts: the vectors must be of exactly these
from botkit.knowledge.store import Chunk, titled_sentences

# Texts a call: a request that arrives meanwhile waits for the embedder at most this long (~40 ms, 1 thread).
BATCH = 8


def sentence_texts(chunks: list[Chunk]) -> list[str]:
    """What answering embeds of these chunks: each candidate sentence as evidence selection scores it,
    and each sentence with its section title as retrieval's sentence check reads it."""
    texts: dict[str, None] = {}
    for chunk in chunks:
        texts.update((scored_by, None) for _, scored_by in candidate_sentences(chunk))
        texts.update((s, None) for s in titled_sentences(chunk.title, chunk.text))
    return list(texts)


def warm_sentence_vectors(bot, idle: Callable[[], bool], stop: threading.Event | None = None,
                          limit: int = REMEMBERED // 2) -> int:
    """Embed the knowledge base's sentence texts (at most `limit`, half of what the embedder remembers, so
    answers keep room) a few at a time, each batch only once `idle()`; returns how many were embedded.
    Ends early once `stop` is set."""
    stop = stop or threading.Event()
    with bot._turns:  # the bot's database and Chroma client are shared with requests
        if bot.knowledge.count() == 0:
            return 0
        stored = bot.knowledge.collection.get(include=["documents", "metadatas"])
    chunks = [Chunk(cid, text, meta.get("source", ""), meta.get("title", ""))
              for cid, text, meta in zip(stored["ids"], stored["documents"], stored["metadatas"])]
    texts = sentence_texts(chunks)[:limit]
    for start in range(0, len(texts), BATCH):
        while not idle():
            if stop.wait(0.05):
                return start
        if stop.is_set():
            return start
        bot.embedder.encode(texts[start:start + BATCH])
    return len(texts)
