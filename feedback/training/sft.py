"""`botkit train sft`: supervised fine-tuning of the brand-voice model on the brand's own copy, with
TRL's SFTTrainer and a LoRA (or prompt-tuning) adapter. Held-out metrics: loss and perplexity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from trl import SFTConfig, SFTTrainer

from botkit.errors import BotkitError
from botkit.feedback.training.base import policy_trainer, train_version
from botkit.feedback.training.config import BotkitFields
from botkit.feedback.training.data import as_chat, truncate_prompt_left


@dataclass
class SFTRunConfig(SFTConfig, BotkitFields):
    """TRL's SFTConfig with botkit's fields (base model, parent, PEFT, held-out split)."""

    method: ClassVar[str] = "sft"


def sft_examples(rows: list[dict], tokenizer, config: SFTRunConfig) -> list[dict]:
    """Rows in one TRL format: plain `text`, or a conversational prompt (cut from the left, unless it is a
    grounded chat) + completion."""
    if any("text" in r for r in rows):
        if not all("text" in r for r in rows):
            raise BotkitError("mix of plain 'text' lines and prompt/response lines: use one kind per file")
        return [{"text": r["text"]} for r in rows]
    out = []
    for r in rows:
        if "messages" in r:
            if r["messages"][-1].get("role") != "assistant" or len(r["messages"]) < 2:
                raise BotkitError("a 'messages' example must end with the assistant's answer after a user turn")
            prompt, completion = r["messages"][:-1], r["messages"][-1]["content"]
        else:
            prompt, completion = r["prompt"], r["completion"]
        # A grounded chat (`sources`: the RL warm start's) is the serving chat the bot fitted to the model's
        # budget: it stays whole, as it will be at inference; other prompts are cut from the left.
        out.append({"prompt": as_chat(prompt) if r.get("sources") else
                    truncate_prompt_left(as_chat(prompt), tokenizer, config.max_prompt_length),
                    "completion": [{"role": "assistant", "content": completion}]})
    return out


def preferred_examples(rows: list[dict]) -> list[dict]:
    """Best-of-n distillation's SFT rows from preference rows: for each prompt, the answer with the
    most net wins over its judged pairs (chosen +1, rejected -1), kept when it won more than it lost.
    One row a prompt: its best answer is the chosen side of several pairs and would weigh N - 1 times."""
    from collections import Counter

    from botkit.feedback.training.data import prompt_key

    net: dict[str, Counter] = {}
    first: dict[str, dict] = {}
    for r in rows:
        key = prompt_key(r)
        first.setdefault(key, r)
        net.setdefault(key, Counter()).update({r["chosen"]: 1})
        net[key].update({r["rejected"]: -1})
    out = []
    for key, scores in net.items():
        text, score = max(scores.items(), key=lambda kv: kv[1])  # the first-seen answer among equals
        if score > 0:
            row = first[key]
            out.append({"prompt": row["prompt"], "completion": text,
                        **({"question": row["question"]} if row.get("question") else {})})
    return out


def train_sft(config: SFTRunConfig, rows: list[dict], out: str, *, source: str, resume: bool = False,
              settings=None, callbacks=()) -> dict:
    """Fine-tune on `rows` (see data.read_sft_file) and register the adapter as policy version `out`."""
    def measure(trainer, train, heldout) -> dict:
        scores = trainer.evaluate()
        train_losses = [h["train_loss"] for h in trainer.state.log_history if "train_loss" in h]
        metrics = {"heldout_loss": scores["eval_loss"], "heldout_perplexity": math.exp(min(scores["eval_loss"], 50)),
                   "heldout_token_accuracy": scores.get("eval_mean_token_accuracy"),
                   "train_loss": train_losses[-1] if train_losses else None, "steps": trainer.state.global_step}
        if any("task" in r for r in heldout):  # a copy archive: does the adapter write copy that passes?
            metrics.update(heldout_copy_metrics(trainer, heldout, settings))
        return metrics

    return train_version(config, rows, out, kind="policy", what="examples",
                         build=policy_trainer(SFTTrainer, config, sft_examples), measure=measure,
                         source=source, resume=resume, settings=settings, callbacks=callbacks)


def heldout_copy_metrics(trainer, heldout: list[dict], settings) -> dict:
    """For held-out copy-archive rows: the share whose one greedy candidate from the trained model passes
    the copy plugin's checks (limit, spelling, relevance, invented facts, brand words...) against this
    home's brand and knowledge base."""
    from botkit.dialogue import Bot
    from botkit.feedback.training.copy_archive import copy_pass_rate
    from botkit.models.transformers_engine import TransformersEngine

    trainer.model.eval()
    engine = TransformersEngine(trainer.model, trainer.processing_class, "trained")
    report = copy_pass_rate(engine, Bot(settings), heldout)
    return {"heldout_copy_pass_rate": report["rate"], "heldout_copy_rows": report["rows"]}
