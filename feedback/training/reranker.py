"""An evidence reranker trained from the knowledge base itself: MiniLM as a sentence-transformers
`CrossEncoder` on (question, sentence) pairs synthesized from any ingested knowledge base (no LLM needed).
Measured by bench/reranker.py against `select_evidence`'s ranking; not wired into answers (it did not beat it)."""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from botkit.knowledge.sentences import split_sentences
from botkit.knowledge.terms import STOPWORDS, WORD, bare

MAX_TOKENS = 128  # a question and one sentence with its section path fit well within this

_FIGURE = re.compile(r"[$£€]?\d[\d,.:]*\s*(?:%|[a-zA-Z]{1,7}\b)?")
_MONEY = re.compile(r"[$£€]\s?\d|\d\s?(?:dollars|euros|pounds)\b", re.IGNORECASE)
_DURATION = re.compile(r"\d\s*(?:-\s*\d+\s*)?(?:working |business )?(?:minute|hour|day|week|month|year)s?\b",
                       re.IGNORECASE)
_BARE_REPLY = re.compile(r"^(yes|no)[.!]?$", re.IGNORECASE)
# A table row as ingestion writes it: "Row label: Header: value; Header: value" or "Label: value, value".
_ROW = re.compile(r"^([^:.!?]{1,60}):\s+(.+)$")


@dataclass
class RerankerConfig:
    """Settings of a reranker run (the trainer's own arguments are set from these)."""

    epochs: float = field(default=1.0, metadata={"help": "Passes over the synthesized pairs."})
    batch_size: int = field(default=16, metadata={"help": "Pairs per step."})
    # 3e-5 left the new classification head underfit after one epoch on helpdesk (loss 0.89 against 0.63).
    learning_rate: float = field(default=1e-4, metadata={"help": "AdamW learning rate."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many steps (-1: the epochs decide)."})
    hard_negatives: int = field(default=3, metadata={"help": "Sentences of the same section per positive."})
    easy_negatives: int = field(default=1, metadata={"help": "Sentences of other documents per positive."})
    max_queries: int = field(default=1500, metadata={"help": "Synthesized queries kept at most (a random sample)."})
    seed: int = field(default=42, metadata={"help": "Seed for sampling pairs and training."})

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Unit:
    """A sentence (or table row) of the knowledge base, with where it sits."""

    text: str
    title: str
    source: str
    chunk: int
    faq_question: str = ""


def _units_of(chunk: int, title: str, text: str, source: str) -> list[Unit]:
    faq = ""
    if text.startswith("Q:") and "\nA:" in text:
        faq, text = (part.strip() for part in text[2:].split("\nA:", 1))
    units: list[str] = []
    for sentence in split_sentences(text):
        if units and _BARE_REPLY.match(units[-1]):  # a bare "Yes." goes with the sentence explaining it
            units[-1] = f"{units[-1]} {sentence}"
        else:
            units.append(sentence)
    return [Unit(u, title, source, chunk, faq) for u in units if len(u.split()) >= 3]


def _words(text: str) -> list[str]:
    return [bare(w) for w in WORD.findall(text) if bare(w) not in STOPWORDS and len(w) > 2]


def _wh_word(sentence: str, rng: random.Random) -> str:
    """The question word a customer would ask this sentence's fact with."""
    if _MONEY.search(sentence):
        return "How much"
    if _DURATION.search(sentence):
        return "How long"
    if re.search(r"\d", sentence):
        return "How many"
    return rng.choice(["What about", "Can I", "How do I", "Is there"])


def key_phrase_query(unit: Unit, idf: dict[str, float], rng: random.Random) -> str:
    """A question made of the sentence's own rarer words, its figures left out (the answer is not in the
    question): "You can pause sync for up to 24 hours" -> "How long pause sync?"."""
    words = list(dict.fromkeys(_words(_FIGURE.sub(" ", unit.text))))
    if len(words) < 2:
        return ""
    keep = sorted(words, key=lambda w: -idf.get(w, 0.0))[:rng.randint(2, 4)]
    return f"{_wh_word(unit.text, rng)} {' '.join(w for w in words if w in keep)}?"


def table_row_query(unit: Unit, rng: random.Random) -> str:
    """A question about one cell of a table row: its row label and one column header, never the value
    ("Free: Channels: Email; First reply within: 3 business days" -> "Free first reply within?")."""
    match = _ROW.match(unit.text)
    if not match:
        return ""
    label, rest = match.groups()
    headers = [cell.split(":", 1)[0].strip() for cell in rest.split(";") if ":" in cell]
    header = rng.choice(headers) if headers else unit.title.rsplit("›", 1)[-1].strip()
    if not header or len(header.split()) > 6 or len(label.split()) > 6:
        return ""
    return f"{label} {header.lower()}?"


def heading_query(unit: Unit) -> str:
    """The section's own heading as a question about the section's first sentence."""
    heading = unit.title.rsplit("›", 1)[-1].strip()
    return f"{heading}?" if len(heading.split()) >= 2 else ""


def synthesize_pairs(chunks: list[tuple[str, str, str]], config: RerankerConfig | None = None) -> list[dict]:
    """(question, passage, label) rows from a knowledge base's chunks, given as (title, text, source):

    - a FAQ row's question -> its answer's sentences;
    - a table row's label and one column header -> that row;
    - a sentence's own rarer words (figures left out) -> that sentence;
    - a section heading of two words or more -> the section's first sentence;

    each positive with `hard_negatives` other sentences of its section (its chunk, else its document) and
    `easy_negatives` sentences of other documents. Passages are read as `select_evidence` reads them."""
    config = config or RerankerConfig()
    rng = random.Random(config.seed)
    units = [u for i, (title, text, source) in enumerate(chunks) for u in _units_of(i, title, text, source)]
    if not units:
        return []
    df = Counter(w for u in units for w in set(_words(u.text)))
    idf = {w: math.log(len(units) / n) for w, n in df.items()}
    by_chunk: dict[int, list[Unit]] = {}
    by_source: dict[str, list[Unit]] = {}
    for u in units:
        by_chunk.setdefault(u.chunk, []).append(u)
        by_source.setdefault(u.source, []).append(u)
    queries: list[tuple[str, Unit, str]] = []
    first_in_chunk = {id(v[0]) for v in by_chunk.values()}
    for u in units:
        if u.faq_question:
            queries.append((u.faq_question, u, "faq"))
        if (q := table_row_query(u, rng)):
            queries.append((q, u, "table_row"))
        if (q := key_phrase_query(u, idf, rng)):
            queries.append((q, u, "key_phrase"))
        if id(u) in first_in_chunk and not u.faq_question and (q := heading_query(u)):
            queries.append((q, u, "heading"))
    rng.shuffle(queries)
    rows = []
    for query, positive, kind in queries[:config.max_queries]:
        rows.append({"query": query, "passage": _passage(positive), "label": 1.0, "kind": kind})
        # A heading is about every sentence under it: its hard negatives are the document's other sections.
        same = [] if kind == "heading" else [u for u in by_chunk[positive.chunk]
                                              if u.text != positive.text and u.faq_question != query]
        if len(same) < config.hard_negatives:
            same += [u for u in by_source[positive.source] if u.chunk != positive.chunk
                     and u.faq_question != query and (kind != "heading" or u.title != positive.title)]
        for negative in rng.sample(same, min(config.hard_negatives, len(same))):
            rows.append({"query": query, "passage": _passage(negative), "label": 0.0, "kind": kind})
        others = [u for u in rng.sample(units, min(len(units), 20)) if u.source != positive.source]
        for negative in others[:config.easy_negatives]:
            rows.append({"query": query, "passage": _passage(negative), "label": 0.0, "kind": kind})
    return rows


def passage(title: str, text: str, faq_question: str = "") -> str:
    """The text a sentence is scored by, as `select_evidence` reads it: a FAQ answer with its question,
    else the sentence after its section path."""
    if faq_question:
        return f"{faq_question} {text}"
    return f"{title}: {text}" if title else text


def _passage(unit: Unit) -> str:
    return passage(unit.title, unit.text, unit.faq_question)


def train_cross_encoder(rows: list[dict], output_dir: Path, config: RerankerConfig | None = None) -> dict:
    """Fine-tune the packaged MiniLM as a cross-encoder on `rows` ({"query", "passage", "label"}) with binary
    cross-entropy, save it in `output_dir` and return its figures (pairs, steps, loss, seconds)."""
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from botkit.embeddings import embedding_model_path

    config = config or RerankerConfig()
    started = time.monotonic()
    model = CrossEncoder(embedding_model_path(), num_labels=1, max_length=MAX_TOKENS, local_files_only=True)
    data = Dataset.from_dict({"query": [r["query"] for r in rows], "passage": [r["passage"] for r in rows],
                              "label": [float(r["label"]) for r in rows]})
    positives = sum(r["label"] > 0.5 for r in rows)
    # Negatives outnumber positives: weigh positives up so the probabilities stay centred.
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor((len(rows) - positives) / max(1, positives)))
    args = CrossEncoderTrainingArguments(
        output_dir=str(Path(output_dir) / "checkpoints"), num_train_epochs=config.epochs,
        max_steps=config.max_steps, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, warmup_steps=0.1, seed=config.seed, save_strategy="no",
        logging_steps=20, report_to="none", use_cpu=not torch.cuda.is_available(), disable_tqdm=True)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss)
    result = trainer.train()
    model.save_pretrained(str(output_dir))
    return {"pairs": len(rows), "positives": positives, "steps": result.global_step,
            "train_loss": round(result.training_loss, 4), "train_seconds": round(time.monotonic() - started, 1)}


class Reranker:
    """A trained cross-encoder: the probability that a passage answers a question."""

    def __init__(self, path: Path):
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(str(path), local_files_only=True, max_length=MAX_TOKENS)

    def score(self, question: str, passages: list[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.model.predict([(question, p) for p in passages], batch_size=32,
                                             show_progress_bar=False), dtype=np.float32)
