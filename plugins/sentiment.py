"""Sentiment: positive / negative / neutral for a text, by prompting the active model (zero-shot or
few-shot) or with a classifier trained on the user's labeled examples; adds `botkit sentiment
train|eval|predict` through the `register_commands` hook."""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np
from langchain_core.runnables import Runnable
from pydantic import Field

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.hookspecs import hookimpl
from botkit.tasks import Task, TaskOptions, chat_prompt, to_chat
from botkit.usage import record

from .sentiment_classifier import LABELS, SentimentClassifier, classification_report

SYSTEM = ("Classify the sentiment of the user's message as positive, negative or neutral. "
          "Neutral means a question, a plain fact or no clear feeling. Answer with one word.")
_ONE_WORD = DecodingOptions(strategy="greedy", max_new_tokens=4)


class LabelScorer(Runnable):
    """Prompt values in, label probabilities out: each label is scored by the model's
    log-likelihood of the label word as the answer, so the output is always a valid label."""

    def __init__(self, engine, calibration: list[list[dict]] = ()):
        self.engine, self.calibration = engine, calibration
        self._bias, self._prefix = None, {}

    def invoke(self, input, config=None, **kwargs) -> dict:
        return self.batch([input])[0]

    def batch(self, inputs: list, config=None, *, return_exceptions: bool = False, **kwargs: Any) -> list[dict]:
        chats = [to_chat(i) for i in inputs]
        if not hasattr(self.engine, "model"):  # engines without logits (fakes): read the generated word
            return [_parse_label(self.engine.generate(c, _ONE_WORD).text) for c in chats]
        scores = np.stack([self._log_likelihoods(c) for c in chats])
        if self.calibration:
            scores = scores - self._label_bias()
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return [{"label": LABELS[int(p.argmax())], "scores": {k: round(float(v), 4) for k, v in zip(LABELS, p)}} for p in probs]

    def _label_bias(self) -> np.ndarray:
        """The mean label scores over a balanced set of texts: what the model favours regardless of
        the text. Subtracting it keeps a small model from answering one label for everything
        (contextual calibration, Zhao et al. 2021, with real texts instead of "N/A")."""
        if self._bias is None:
            self._bias = np.mean([self._log_likelihoods(chat) for chat in self.calibration], axis=0)
        return self._bias

    def _log_likelihoods(self, chat: list[dict]) -> np.ndarray:
        """log P(label | chat) for each label."""
        tok = self.engine.tokenizer
        prompt = tok(self.engine.render(chat), add_special_tokens=False)["input_ids"]
        labels = [tok(label, add_special_tokens=False)["input_ids"] for label in LABELS]
        record(len(prompt))  # a scoring pass reads the prompt and writes nothing
        if all(len(label) == 1 for label in labels):  # one forward pass: the next token's distribution
            return self._next_token_logprobs(chat, prompt)[[label[0] for label in labels]].numpy()
        return self._sequence_log_likelihoods(prompt, labels)

    def _next_token_logprobs(self, chat: list[dict], prompt: list[int]):
        """Reuses the key/value cache of the system prompt and examples, which every text shares:
        only the text itself is run through the model (a 3-10x saving with few-shot examples)."""
        import torch

        model, key = self.engine.model, tuple(m["content"] for m in chat[:-1])
        if key not in self._prefix:
            rendered = self.engine.tokenizer.apply_chat_template(chat[:-1], tokenize=False)
            prefix = self.engine.tokenizer(rendered, add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                cache = model(input_ids=torch.tensor([prefix], device=self.engine.device), use_cache=True).past_key_values
            self._prefix[key] = (prefix, cache)
        prefix, cache = self._prefix[key]
        shared = len(prefix) < len(prompt) and prompt[:len(prefix)] == prefix
        rest = prompt[len(prefix):] if shared else prompt
        with torch.inference_mode():  # a copy: the forward pass appends the text to the cache
            out = model(input_ids=torch.tensor([rest], device=self.engine.device),
                        past_key_values=copy.deepcopy(cache) if shared else None, use_cache=shared, logits_to_keep=1)
        return out.logits[0, -1].float().log_softmax(-1).cpu()

    def _sequence_log_likelihoods(self, prompt: list[int], labels: list[list[int]]) -> np.ndarray:
        """Multi-token labels: one forward pass over prompt + every label."""
        import torch

        tok, model = self.engine.tokenizer, self.engine.model
        width = len(prompt) + max(map(len, labels))
        ids = torch.full((len(labels), width), tok.pad_token_id)
        for row, label in enumerate(labels):
            ids[row, :len(prompt) + len(label)] = torch.tensor(prompt + label)
        with torch.inference_mode():
            logprobs = model(input_ids=ids.to(self.engine.device)).logits.float().log_softmax(-1).cpu()
        return np.array([sum(logprobs[row, len(prompt) + j - 1, t].item() for j, t in enumerate(label))
                         for row, label in enumerate(labels)])


def _parse_label(text: str) -> dict:
    words = text.lower().split()
    label = next((w.strip(".,!") for w in words if w.strip(".,!") in LABELS), "neutral")
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
        return [{"label": labels[int(p.argmax())], "scores": {k: round(float(v), 4) for k, v in zip(labels, p)}} for p in probs]


class Sentiment(Task):
    name = "sentiment"
    description = "Classify a text's sentiment as positive, negative or neutral (prompted or with a trained classifier)."
    dataset_fields = ("text", "label")
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
                raise BotkitError("mode trained needs model=DIR: make one with `botkit sentiment train FILE.jsonl --out DIR`")
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
