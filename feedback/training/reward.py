"""`botkit train rm`: a reward model from pairwise preferences with TRL's RewardTrainer, on the
packaged MiniLM (fast on a CPU: the default) or the chat model's own base, with a LoRA or prompt-tuning
adapter and a scalar head. `RewardScorer` scores (prompt, response) pairs for RL and ranking;
`score_pairs` measures a registered reward version on preference pairs (`botkit eval rm`).

We tokenize ourselves, because RewardTrainer drops over-long pairs instead of truncating them: the
prompt is cut from the left so the responses being compared are never cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from trl import RewardConfig

from botkit.errors import BotkitError
from botkit.feedback.training.adapters import peft_config
from botkit.feedback.training.base import Built, train_version
from botkit.feedback.training.config import BotkitFields
from botkit.feedback.training.data import as_chat, prompt_as_text, require, truncate_prompt_left

MINILM = "minilm"


@dataclass
class RewardRunConfig(RewardConfig, BotkitFields):
    """TRL's RewardConfig with botkit's fields; the backbone is an encoder by default, not the chat model."""

    model: str = field(default=MINILM, metadata={
        "aliases": ["--backbone"],
        "help": "Backbone: 'minilm' (the packaged all-MiniLM-L6-v2, fast on CPU), 'policy' (the chat model's "
                "base) or any model spec."})

    method: ClassVar[str] = "rm"
    min_examples: ClassVar[int] = 8


def backbone_dir(spec: str, settings) -> tuple[str, str]:
    """(base spec recorded with the version, loadable directory) for a reward backbone."""
    from botkit.models.loading import resolve_model

    if spec == MINILM:
        from botkit.embeddings import embedding_model_path

        return MINILM, embedding_model_path()
    if spec == "policy":
        from botkit.feedback.registry import registered_version

        version = registered_version(settings.model)
        spec = version["base"] if version else settings.model
    base, adapter = resolve_model(spec, settings.cache_dir)
    if adapter:
        raise BotkitError(f"{spec} is an adapter: a reward backbone must be a base model")
    if Path(spec).expanduser().exists():  # recorded absolute, so the version loads from any directory
        spec = str(Path(spec).expanduser().resolve())
    return spec, base


def load_backbone(directory: str):
    """(model with a 1-output head, tokenizer) ready for pairwise training or scoring."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    if tokenizer.eos_token is None:  # BERT has none; TRL's RewardTrainer expects one
        tokenizer.eos_token = tokenizer.sep_token
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(directory, num_labels=1, local_files_only=True)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def encode(tokenizer, prompt, response: str, max_length: int, max_prompt_length: int) -> list[int]:
    """Token ids of one (prompt, response): the response kept whole (up to max_length - 16 tokens),
    the prompt cut from the left to fit. Chat models see their chat template; encoders see
    `[CLS] prompt [SEP] response [SEP]`."""
    room = max_length - 16
    response_ids = tokenizer(response, add_special_tokens=False)["input_ids"][:room]
    if getattr(tokenizer, "chat_template", None):
        prompt_ids = tokenizer.apply_chat_template(as_chat(prompt), tokenize=True, add_generation_prompt=True,
                                                   return_dict=True)["input_ids"]
        tail = response_ids + [tokenizer.eos_token_id]
        budget = max(1, min(max_prompt_length, max_length - len(tail)))
        return prompt_ids[-budget:] + tail
    prompt_text = truncate_prompt_left(prompt_as_text(prompt), tokenizer, max_prompt_length)
    tokenizer.truncation_side = "left"
    return tokenizer(prompt_text, tokenizer.decode(response_ids), truncation="only_first",
                     max_length=max_length)["input_ids"]


class RewardScorer:
    """Scores responses with a reward model (a registered version or one just trained)."""

    def __init__(self, model, tokenizer, max_length: int, max_prompt_length: int, name: str = ""):
        self.model, self.tokenizer, self.name = model.eval(), tokenizer, name
        self.max_length, self.max_prompt_length = max_length, max_prompt_length

    @classmethod
    def load(cls, name: str, settings=None) -> RewardScorer:
        """The registered reward version `name`."""
        from peft import PeftModel

        from botkit.config import load_settings
        from botkit.feedback.registry import ModelRegistry

        settings = settings or load_settings()
        version = ModelRegistry.open(settings).version(name)
        if version["kind"] != "reward":
            raise BotkitError(f"{name} is a {version['method']} policy version, not a reward model "
                              "(train one with `botkit train rm`)")
        _, directory = backbone_dir(version["base"], settings)
        model, tokenizer = load_backbone(directory)
        try:
            model = PeftModel.from_pretrained(model, version["adapter_path"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise BotkitError(f"reward adapter {name} does not fit its base {version['base']}: "
                              f"{str(exc).splitlines()[0]}") from exc
        config = version["config"]
        return cls(model, tokenizer, config["max_length"], config["max_prompt_length"], name)

    def score(self, prompts: list, responses: list[str], batch_size: int = 16) -> list[float]:
        import torch

        device = next(self.model.parameters()).device
        scores = []
        for start in range(0, len(responses), batch_size):
            ids = [encode(self.tokenizer, p, r, self.max_length, self.max_prompt_length)
                   for p, r in zip(prompts[start:start + batch_size], responses[start:start + batch_size])]
            batch = self.tokenizer.pad({"input_ids": ids}, return_tensors="pt", padding_side="right")
            with torch.no_grad():
                logits = self.model(input_ids=batch["input_ids"].to(device),
                                    attention_mask=batch["attention_mask"].to(device)).logits
            scores.extend(logits[:, 0].float().tolist())
        return scores

    def pairwise(self, rows: list[dict]) -> dict:
        """Held-out style figures on preference rows: `accuracy` (chosen scored above rejected), `n`,
        `mean_margin` (chosen minus rejected)."""
        if not rows:
            return {"accuracy": None, "n": 0, "mean_margin": None}
        prompts = [r["prompt"] for r in rows]
        chosen = self.score(prompts, [r["chosen"] for r in rows])
        rejected = self.score(prompts, [r["rejected"] for r in rows])
        margins = [c - r for c, r in zip(chosen, rejected)]
        return {"accuracy": sum(m > 0 for m in margins) / len(rows), "n": len(rows),
                "mean_margin": sum(margins) / len(rows)}


def tokenized(rows: list[dict], tokenizer, config: RewardRunConfig):
    from datasets import Dataset

    return Dataset.from_list([
        {"chosen_ids": encode(tokenizer, r["prompt"], r["chosen"], config.max_length, config.max_prompt_length),
         "rejected_ids": encode(tokenizer, r["prompt"], r["rejected"], config.max_length, config.max_prompt_length)}
        for r in rows])


def train_reward_model(config: RewardRunConfig, rows: list[dict], out: str, *, source: str, resume: bool = False,
                       settings=None, callbacks=()) -> dict:
    """Train on preference `rows` (prompt, chosen, rejected) and register reward version `out`;
    its metrics hold the held-out pairwise accuracy."""
    def build(train, heldout, settings) -> Built:
        from trl import RewardTrainer

        base, directory = backbone_dir(config.model, settings)
        model, tokenizer = load_backbone(directory)
        config.eos_token = tokenizer.eos_token
        trainer = RewardTrainer(model=model, args=config, processing_class=tokenizer,
                                train_dataset=tokenized(train, tokenizer, config),
                                peft_config=peft_config(config, "SEQ_CLS"))
        return Built(trainer, base)

    def measure(trainer, train, heldout) -> dict:
        scorer = RewardScorer(trainer.model, trainer.processing_class, config.max_length, config.max_prompt_length, out)
        held = scorer.pairwise(heldout)
        return {"heldout_accuracy": held["accuracy"], "heldout_pairs": held["n"],
                "heldout_mean_margin": held["mean_margin"], "train_pairs": len(train),
                "steps": trainer.state.global_step}

    return train_version(config, rows, out, kind="reward", what="preference pairs", build=build, measure=measure,
                         source=source, resume=resume, settings=settings, callbacks=callbacks)


def score_pairs(version: str, rows: list[dict], settings=None) -> dict:
    """`version`, pairwise `accuracy` (chosen scored above rejected), `n` and `mean_margin` of the
    registered reward version on preference rows (`prompt`, `chosen`, `rejected`)."""
    require(rows, 1, "preference pairs", "the file")
    return {"version": version, **RewardScorer.load(version, settings).pairwise(rows)}
