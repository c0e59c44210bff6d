"""Sentiment: positive / negative / neutral for a text, by prompting the active model (zero-shot or
few-shot) or with a classifier trained on the user's labeled examples; adds `botkit sentiment
train|eval|predict` through the `register_commands` hook.

The trained mode runs the DIR's own fine-tuned MiniLM (SetFit's method, `sentiment_encoder`) and a
logistic-regression head. Hand-written tweet-like proxy (594 train, 313 unseen): macro recall 0.872
fine-tuned vs 0.850 frozen (14 vs 7 discordant tweets, p = 0.19: not significant on so small
a set); the public tweet benchmark (target >= 0.68) is not measured here. Details: README.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np
from langchain_core.runnables import Runnable
from pydantic import Field

from botkit.errors import BotkitError
from botkit.hookspecs import hookimpl
from botkit.models.engine import score_by_generation
from botkit.tasks import Task, TaskOptions, chat_prompt, to_chat

from .sentiment_classifier import LABELS, SentimentClassifier, classification_report

SYSTEM = ("Classify the sentiment of the user's message as positive, negative or neutral. "
          "Neutral means a question, a plain fact or no clear feeling. Answer with one word.")


class LabelScorer(Runnable):
    """Prompt values in, label probabilities out: each label is scored by the engine's log-likelihood
    of the label word as the answer (`Engine.score`), so the output is always a valid label. Engines
    without log-probs score by generation: the label the model writes wins."""

    def __init__(self, engine, calibration: list[list[dict]] = ()):
        self.engine, self.calibration = engine, calibration
        self._bias = None

    def invoke(self, input, config=None, **kwargs) -> dict:
        return self.batch([input])[0]

    def batch(self, inputs: list, config=None, *, return_exceptions: bool = False, **kwargs: Any) -> list[dict]:
        scores = np.stack([self._log_likelihoods(to_chat(i)) for i in inputs])
        bias = self._label_bias()
        if np.isfinite(bias).all():
            scores = scores - bias
        results = []
        for row in scores:
            if not np.isfinite(row).any():  # the model named no label: no clear feeling
                results.append(_one_hot("neutral"))
                continue
            probs = np.exp(row - row.max())
            probs /= probs.sum()
            results.append({"label": LABELS[int(probs.argmax())],
                            "scores": {k: round(float(v), 4) for k, v in zip(LABELS, probs)}})
        return results

    def _label_bias(self) -> np.ndarray:
        """The mean label scores over a balanced set of texts: what the model favours regardless of
        the text. Subtracting it keeps a small model from answering one label for everything
        (contextual calibration, Zhao et al. 2021, with real texts instead of "N/A")."""
        if self._bias is None:
            rows = [self._log_likelihoods(chat) for chat in self.calibration]
            self._bias = np.mean(rows, axis=0) if rows else np.full(len(LABELS), np.nan)
        return self._bias

    def _log_likelihoods(self, chat: list[dict]) -> np.ndarray:
        """log P(label | chat) for each label."""
        score = getattr(self.engine, "score", None) or functools.partial(score_by_generation, self.engine)
        return np.array(score(chat, list(LABELS)), dtype=float)


def _one_hot(label: str) -> dict:
    return {"label": label, "scores": {k: float(k == label) for k in LABELS}}


class ClassifierStep(Runnable):
    """Texts in, the trained classifier's label and probabilities out."""

    def __init__(self, classifier: SentimentClassifier):
        self.classifier = classifier

    def invoke(self, input, config=None, **kwargs) -> dict:
        return self.batch([input])[0]

    def batch(self, inputs: list, config=None, *, return_exceptions: bool = False, **kwargs: Any) -> list[dict]:
        probs = self.classifier.predict_proba(list(inputs))
        labels = self.classifier.labels
        return [{"label": labels[int(p.argmax())], "scores": {k: round(float(v), 4) for k, v in zip(labels, p)}}
                for p in probs]


class Sentiment(Task):
    name = "sentiment"
    description = ("Classify a text's sentiment as positive, negative or neutral "
                   "(prompted or with a trained classifier).")
    dataset_fields = ("text", "label")
    needs_text = True
    intents = [
        "What is the sentiment of this review?",
        "Is this customer message positive or negative?",
        "Classify the tone of this tweet",
        "Is this feedback happy or angry?",
    ]
    examples = [
        {"input": "Arrived quickly and works great, my whole family loves it.", "output": "positive"},
        {"input": "Broke after a week and support never answered my emails.", "output": "negative"},
        {"input": "Does this come in a larger size?", "output": "neutral"},
        {"input": "Honestly the best purchase I've made this year!", "output": "positive"},
        {"input": "The order is scheduled to arrive on Tuesday.", "output": "neutral"},
        {"input": "Waste of money, I want a refund.", "output": "negative"},
    ]

    class Options(TaskOptions):
        mode: Literal["zero-shot", "few-shot", "trained"] | None = Field(
            None, description="zero-shot | few-shot | trained (default: trained when model is given, else few-shot).")
        model: str = Field("", description="A classifier directory made by `botkit sentiment train` (mode trained).")
        calibrate: bool = Field(True, description="Prompted modes: correct the model's bias towards a label word.")

    def build(self, bot, options: Options) -> Runnable:
        mode = options.mode or ("trained" if options.model else "few-shot")
        if mode == "trained":
            if not options.model:
                raise BotkitError("mode trained needs model=DIR: "
                                  "make one with `botkit sentiment train FILE.jsonl --out DIR`")
            return ClassifierStep(SentimentClassifier.load(options.model, bot.embedder))
        prompt = chat_prompt(SYSTEM, self.examples if mode == "few-shot" else [])
        calibration = [to_chat(prompt.invoke(ex["input"])) for ex in self.examples] if options.calibrate else []
        return prompt | LabelScorer(bot.engine, calibration)

    def classify(self, bot, texts: list[str], on_progress=None, **options) -> list[dict]:
        """One result per text ({"label", "scores"}), in batches; `on_progress(done)` after each."""
        step, results = self.build(bot, self.parse_options(options)), []
        for start in range(0, len(texts), 32):
            results += step.batch(texts[start:start + 32])
            if on_progress:
                on_progress(len(results))
        return results

    def evaluate(self, bot, dataset: list[dict], on_progress=None, **options) -> dict:
        """`classification_report` of this task's labels against the dataset's `label`s."""
        predicted = [r["label"] for r in self.classify(bot, [r["text"] for r in dataset], on_progress, **options)]
        return classification_report([r["label"] for r in dataset], predicted)

    def format(self, output: dict) -> str:
        return f"**{output['label']}** ({output['scores'][output['label']]:.0%})"


@hookimpl
def register_tasks(register):
    register(Sentiment())


@hookimpl
def register_commands(cli):
    from .sentiment_cli import sentiment_app

    cli.add_typer(sentiment_app, name="sentiment")
