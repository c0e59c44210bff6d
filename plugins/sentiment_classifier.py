"""The sentiment plugin's library: labeled-file reading, the metrics `botkit sentiment eval` prints,
and the trained classifier (a logistic-regression head on frozen MiniLM sentence embeddings).

A frozen encoder plus a linear head is SetFit without the contrastive stage: embedding is the only
costly step (seconds for thousands of texts on a CPU) and the head fits in well under a second, so
it gives the best accuracy per CPU-minute of the approaches we tried (see the plugin's README row).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from botkit.errors import BotkitError
from botkit.jsonl import parse_jsonl, read_text

LABELS = ("positive", "negative", "neutral")
MIN_PER_CLASS = 5  # fewer examples of a label and neither the head nor the held-out split mean anything
CLASSIFIER_FILE = "classifier.json"
METRICS_FILE = "metrics.json"


def read_examples(path: Path, labeled: bool = True, skip_bad: bool = False) -> tuple[list[dict], int]:
    """The rows of a JSONL file as {"line", "text"[, "label"]} and how many bad lines were skipped.

    A bad line (not JSON, no text, empty text, a label outside LABELS) is an error naming its line
    number, unless `skip_bad`: then the good lines are kept.
    """
    required = ("text", "label") if labeled else ("text",)
    rows, problems = [], []
    for number, line in enumerate(read_text(path).split("\n"), 1):  # see botkit.jsonl.parse_jsonl
        if not line.strip():
            continue
        try:
            row = parse_jsonl(line, path, required)[0]
        except BotkitError:
            problems.append(f"line {number}: malformed (each line must be a JSON object with {', '.join(required)})")
            continue
        text = row["text"].strip() if isinstance(row["text"], str) else ""
        if not text:
            problems.append(f"line {number}: empty text")
        elif labeled and row["label"] not in LABELS:
            problems.append(f"line {number}: label {row['label']!r} is not one of {', '.join(LABELS)}")
        else:
            rows.append({"line": number, "text": text, **({"label": row["label"]} if labeled else {})})
    if problems and not skip_bad:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise BotkitError(f"{path}: {shown} (--skip-bad keeps the good lines)")
    if not rows:
        raise BotkitError(f"{path}: no usable lines")
    return rows, len(problems)


def classification_report(gold: list[str], predicted: list[str], labels: tuple[str, ...] = LABELS) -> dict:
    """scikit-learn's precision, recall and F1 per class, their macro averages, accuracy and the
    confusion matrix (rows: true label, columns: predicted label, both in `labels` order), under the
    keys `botkit sentiment eval --json` prints. 0/0 counts as 0."""
    from sklearn import metrics

    if not gold:
        raise BotkitError("no examples to measure")
    report = metrics.classification_report(gold, predicted, labels=list(labels), output_dict=True, zero_division=0)

    def scores(row: dict) -> dict:
        return {"precision": float(row["precision"]), "recall": float(row["recall"]), "f1": float(row["f1-score"])}

    per_class = {label: {**scores(report[label]), "support": int(report[label]["support"])} for label in labels}
    matrix = metrics.confusion_matrix(gold, predicted, labels=list(labels))
    return {"per_class": per_class, "macro": scores(report["macro avg"]),
            "accuracy": float(metrics.accuracy_score(gold, predicted)), "confusion_matrix": matrix.tolist(),
            "labels": list(labels), "n": len(gold)}


@dataclass
class SentimentTrainConfig:
    heldout: float = field(default=0.2,
                           metadata={"help": "Share of each label kept out of training to measure the model."})
    seed: int = field(default=0, metadata={"help": "Seed of the held-out split."})
    c_values: tuple[float, ...] = field(
        default=(0.5, 2.0, 8.0, 32.0),
        metadata={"help": "Inverse regularisation strengths tried by 5-fold cross-validation."})


class SentimentClassifier:
    """A trained head over the embedder's vectors: `predict_proba(texts)` -> [n, labels]."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, labels: list[str], embedder):
        self.coef, self.intercept, self.labels, self.embedder = coef, intercept, labels, embedder

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        from scipy.special import softmax

        return softmax(self.embedder.encode(texts) @ self.coef.T + self.intercept, axis=1)

    def save(self, out_dir: Path, embedding_model: str) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        head = {"embedding_model": embedding_model, "labels": self.labels, "coef": self.coef.tolist(),
                "intercept": self.intercept.tolist()}
        (out_dir / CLASSIFIER_FILE).write_text(json.dumps(head), encoding="utf-8")

    @classmethod
    def load(cls, model_dir: Path | str, embedder) -> SentimentClassifier:
        path = Path(model_dir).expanduser() / CLASSIFIER_FILE
        if not path.exists():
            raise BotkitError(f"{model_dir} is not a sentiment classifier (no {CLASSIFIER_FILE}): "
                              "make one with `botkit sentiment train FILE.jsonl --out DIR`")
        head = json.loads(path.read_text(encoding="utf-8"))
        if head["embedding_model"] != embedder.name:
            raise BotkitError(f"{model_dir} was trained on {head['embedding_model']} embeddings, not {embedder.name}")
        return cls(np.asarray(head["coef"]), np.asarray(head["intercept"]), head["labels"], embedder)


def embed(embedder, texts: list[str], on_progress: Callable[[int], None] | None = None, chunk: int = 64) -> np.ndarray:
    """`embedder.encode` in chunks, reporting how many texts are done after each."""
    parts = []
    for start in range(0, len(texts), chunk):
        parts.append(embedder.encode(texts[start:start + chunk]))
        if on_progress:
            on_progress(min(start + chunk, len(texts)))
    return np.concatenate(parts) if parts else embedder.encode([])


def train_classifier(rows: list[dict], out_dir: Path, embedder, config: SentimentTrainConfig | None = None,
                     on_progress: Callable[[int], None] | None = None) -> dict:
    """Fit the head on `rows` minus a stratified held-out share, save it to `out_dir` with its
    metrics (held-out report, split line numbers, seconds) and return those metrics."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import train_test_split

    config = config or SentimentTrainConfig()
    counts = {label: sum(r["label"] == label for r in rows) for label in LABELS}
    short = {label: n for label, n in counts.items() if n < MIN_PER_CLASS}
    if short:
        have = ", ".join(f"{n} {label}" for label, n in short.items())
        raise BotkitError(f"too few examples to train: {have}; need at least {MIN_PER_CLASS} of each label "
                          f"({', '.join(LABELS)})")
    started = time.perf_counter()
    vectors = embed(embedder, [r["text"] for r in rows], on_progress)
    gold = np.asarray([r["label"] for r in rows])
    train_idx, test_idx = train_test_split(np.arange(len(rows)), test_size=config.heldout, stratify=gold,
                                           random_state=config.seed)
    x, y = vectors[train_idx], gold[train_idx]
    folds = int(min(5, min(np.unique(y, return_counts=True)[1])))
    # Picks C by stratified k-fold accuracy, then refits on the whole training share with it.
    fitted = LogisticRegressionCV(Cs=list(config.c_values), cv=folds, l1_ratios=(0.0,), scoring="accuracy",
                                  max_iter=2000, class_weight="balanced", use_legacy_attributes=False).fit(x, y)
    order = [list(fitted.classes_).index(label) for label in LABELS]  # rows in LABELS order
    classifier = SentimentClassifier(fitted.coef_[order], fitted.intercept_[order], list(LABELS), embedder)
    seconds = time.perf_counter() - started
    logits = vectors[test_idx] @ classifier.coef.T + classifier.intercept
    report = classification_report(list(gold[test_idx]), [LABELS[i] for i in logits.argmax(axis=1)])
    metrics = {"heldout": report, "train_seconds": round(seconds, 2), "examples": len(rows),
               "train_lines": sorted(rows[i]["line"] for i in train_idx),
               "heldout_lines": sorted(rows[i]["line"] for i in test_idx),
               "c": float(fitted.C_), "embedding_model": embedder.name, "config": asdict(config)}
    classifier.save(out_dir, embedder.name)
    (out_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return metrics
