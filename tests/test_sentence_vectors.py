"""The server's background embedding of the knowledge's sentences (botkit.server.sentence_vectors): once
it has run, a question embeds only itself; it never runs while a request is in."""

from __future__ import annotations

import threading

from botkit.dialogue import Bot
from botkit.evidence import select_evidence
from botkit.server.sentence_vectors import warm_sentence_vectors

QUESTION = "How long is the warranty on the Zephyr 3000?"


class CountingEmbedder:
    """The session's embedder, noting each text it is asked to embed for the first time (`new`)."""

    def __init__(self, inner):
        self.inner, self.known, self.new = inner, set(), []
        self.tokenizer, self.dimension, self.name = inner.tokenizer, inner.dimension, inner.name

    def encode(self, texts, progress=False):
        self.new += [t for t in dict.fromkeys(texts) if t not in self.known]
        self.known.update(texts)
        return self.inner.encode(texts)

    def similarity(self, query, texts):
        vectors = self.encode([query, *texts])
        return vectors[1:] @ vectors[0]

    def embed_documents(self, texts):
        return self.encode(texts).tolist()

    def embed_query(self, text):
        return self.encode([text])[0].tolist()


def test_after_warming_a_question_embeds_only_itself(settings, embedder, docs):
    counting = CountingEmbedder(embedder)
    bot = Bot(settings, embedder=counting)
    bot.knowledge.ingest(docs)
    assert warm_sentence_vectors(bot, idle=lambda: True) > 20
    counting.new.clear()
    chunks = bot.knowledge.search(QUESTION, settings.top_k, settings.min_relevance)
    evidence = select_evidence(QUESTION, chunks, counting)
    assert evidence and "seven" in evidence[0].sentence
    assert counting.new == [QUESTION]


def test_nothing_is_embedded_while_a_request_is_in(settings, embedder, docs):
    counting = CountingEmbedder(embedder)
    bot = Bot(settings, embedder=counting)
    bot.knowledge.ingest(docs)
    counting.new.clear()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    assert warm_sentence_vectors(bot, idle=lambda: False, stop=stop) == 0
    assert counting.new == []
