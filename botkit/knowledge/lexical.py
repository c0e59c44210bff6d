"""A BM25 index over the knowledge base's chunks (bm25s), and reciprocal-rank fusion with the dense results.

Dense vectors find paraphrases; BM25 finds the rare exact words they blur: product names, error codes
("E-408"), version numbers. Fusing the two rankings by rank, not score, needs no calibration between them.
"""

from __future__ import annotations

import re

import numpy as np

from botkit.knowledge.terms import STOPWORDS, stem

# Words, and numbers with their decimals kept whole ("1.7", "4.9.3"): a figure is a strong lexical cue.
_TOKEN = re.compile(r"\d+(?:\.\d+)*|[a-z]+")


def tokens(text: str) -> list[str]:
    """Stemmed content words and numbers of `text`, repeats kept (BM25 counts them)."""
    found = []
    for token in _TOKEN.findall(text.lower()):
        if token[0].isdigit():
            found.append(token)
        elif len(token) > 1 and token not in STOPWORDS:
            found.append(stem(token))
    return found


class LexicalIndex:
    """BM25 over the units (lines) of each chunk, each with the chunk's title; a chunk ranks by its best unit.

    Units, not whole chunks: BM25's length normalisation would bury a one-line answer ("Never put a
    kettle base in a dishwasher") inside a long chunk of general advice.
    """

    def __init__(self, ids: list[str], titles: list[str], texts: list[str]):
        import bm25s

        self.ids = []
        self.texts = [f"{title}\n{text}" for title, text in zip(titles, texts)]  # each chunk's, as searched
        units = []
        for cid, title, text in zip(ids, titles, texts):
            for line in filter(str.strip, text.splitlines()):
                self.ids.append(cid)
                units.append(f"{title}: {line}")
        self._bm25 = bm25s.BM25()
        if units:  # bm25s cannot index nothing
            # An empty token keeps bm25s happy with units that have no content words at all.
            self._bm25.index([tokens(u) or [""] for u in units], show_progress=False)

    def search(self, query: str, n: int) -> list[str]:
        """Ids of the (at most) `n` best-matching chunks, best first; chunks sharing no word are left out."""
        if not self.ids:
            return []
        known = [t for t in tokens(query) if t in self._bm25.vocab_dict]
        if not known:
            return []
        scores = self._bm25.get_scores(known)
        # Several units of one chunk may score: look at enough of the best units to fill n chunks.
        best = np.argpartition(-scores, min(len(scores), 10 * n) - 1)[:10 * n]
        ranked: list[str] = []
        for i in best[np.argsort(-scores[best], kind="stable")]:
            if scores[i] <= 0 or len(ranked) == n:
                break
            if self.ids[i] not in ranked:
                ranked.append(self.ids[i])
        return ranked


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60, weights: list[float] | None = None) -> list[str]:
    """Ids ordered by the (weighted) sum of 1 / (k + rank) over the rankings they appear in (Cormack et al., 2009)."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings)):
        for rank, cid in enumerate(ranking, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
    return sorted(fused, key=lambda cid: -fused[cid])
