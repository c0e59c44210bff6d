"""The knowledge base: loading documents, chunking them and searching them in Chroma."""

from botkit.knowledge.store import Chunk, IngestReport, KnowledgeBase

__all__ = ["Chunk", "IngestReport", "KnowledgeBase"]
