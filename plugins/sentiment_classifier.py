"""The sentiment plugin's library: labeled-file reading, the metrics `botkit sentiment eval` prints,
and the trained classifier: a logistic-regression head on MiniLM sentence embeddings, by default
from a copy of MiniLM first fine-tuned on the training texts (SetFit's method, `sentiment_encoder`).

Fine-tuning the encoder is what costs CPU time (minutes for thousands of texts); the frozen encoder
(`encoder="frozen"`) embeds in seconds and the head fits in under a second. Figures: README's row.
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

from .sentiment_encoder import ENCODER_DIR, EncoderTuneConfig, TunedEmbedder, tune_encoder

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
    encoder: str = field(
        default="tuned",
        metadata={"help": "tuned: fine-tune MiniLM on the training texts first (SetFit); frozen: MiniLM as shipped."})
    tune: EncoderTuneConfig = field(default_factory=EncoderTuneConfig,
                                    metadata={"help": "How the encoder is fine-tuned (encoder tuned)."})
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
        """The head in `model_dir`, over its own fine-tuned encoder when it has one, else `embedder`."""
        path = Path(model_dir).expanduser() / CLASSIFIER_FILE
        if not path.exists():
            raise BotkitError(f"{model_dir} is not a sentiment classifier (no {CLASSIFIER_FILE}): "
                              "make one with `botkit sentiment train FILE.jsonl --out DIR`")
        head = json.loads(path.read_text(encoding="utf-8"))
        if (path.parent / ENCODER_DIR).is_dir():
            embedder = TunedEmbedder(path.parent / ENCODER_DIR)
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
                     on_progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Split off a stratified held-out share, fine-tune the encoder on the rest (unless frozen), fit
    the head on its vectors, save both to `out_dir` with the metrics (held-out report, split line
    numbers, seconds) and return those metrics. `on_progress(stage, done, total)` as it goes."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import train_test_split

    config = config or SentimentTrainConfig()
    if config.encoder not in ("tuned", "frozen"):
        raise BotkitError(f"encoder {config.encoder!r} is not one of tuned, frozen")
    counts = {label: sum(r["label"] == label for r in rows) for label in LABELS}
    short = {label: n for label, n in counts.items() if n < MIN_PER_CLASS}
    if short:
        have = ", ".join(f"{n} {label}" for label, n in short.items())
        raise BotkitError(f"too few examples to train: {have}; need at least {MIN_PER_CLASS} of each label "
                          f"({', '.join(LABELS)})")
    report_progress = on_progress or (lambda stage, done, total: None)
    started, cpu_started = time.perf_counter(), time.process_time()
    gold = np.asarray([r["label"] for r in rows])
    train_idx, test_idx = train_test_split(np.arange(len(rows)), test_size=config.heldout, stratify=gold,
                                           random_state=config.seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / ENCODER_DIR).exists():  # a frozen retrain must not leave an old tuned encoder behind
        import shutil

        shutil.rmtree(out_dir / ENCODER_DIR)
    if config.encoder == "tuned":
        encoder = tune_encoder([rows[i]["text"] for i in train_idx], list(gold[train_idx]), out_dir, config.tune,
                               lambda done, total: report_progress("Fine-tuning the encoder", done, total))
        embedder = TunedEmbedder(encoder)
    vectors = embed(embedder, [r["text"] for r in rows], lambda done: report_progress("Embedding", done, len(rows)))
    x, y = vectors[train_idx], gold[train_idx]
    folds = int(min(5, min(np.unique(y, return_counts=True)[1])))
    # Picks C by stratified k-fold accuracy, then refits on the whole training share with it.
    fitted = LogisticRegressionCV(Cs=list(config.c_values), cv=folds, l1_ratios=(0.0,), scoring="accuracy",
                                  max_iter=2000, class_weight="balanced", use_legacy_attributes=False).fit(x, y)
    order = [list(fitted.classes_).index(label) for label in LABELS]  # rows in LABELS order
    classifier = SentimentClassifier(fitted.coef_[order], fitted.intercept_[order], list(LABELS), embedder)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    logits = vectors[test_idx] @ classifier.coef.T + classifier.intercept
    report = classification_report(list(gold[test_idx]), [LABELS[i] for i in logits.argmax(axis=1)])
    # CPU seconds beside wall seconds: on a shared machine only the CPU time says what a run costs
    metrics = {"heldout": report, "train_seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
               "examples": len(rows), "train_lines": sorted(rows[i]["line"] for i in train_idx),
               "heldout_lines": sorted(rows[i]["line"] for i in test_idx),
               "c": float(fitted.C_), "embedding_model": embedder.name, "config": asdict(config)}
    classifier.save(out_dir, embedder.name)
    (out_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return metrics
