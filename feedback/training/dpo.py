"""`botkit train dpo`: direct preference optimisation of the brand-voice model with TRL's DPOTrainer
and a LoRA (or prompt-tuning) adapter; the base (adapter off) is the reference. Held-out: reward
accuracy and margins.

Prompts are cut from the left before TRL sees them (TRL only truncates the end of prompt + response),
leaving the longer response of each pair whole up to `max_length`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from trl import DPOConfig, DPOTrainer

from botkit.feedback.training.base import policy_trainer, train_version
from botkit.feedback.training.config import BotkitFields
from botkit.feedback.training.data import as_chat, truncate_prompt_left


@dataclass
class DPORunConfig(DPOConfig, BotkitFields):
    """TRL's DPOConfig with botkit's fields (base model, parent, PEFT, held-out split)."""

    method: ClassVar[str] = "dpo"
    min_examples: ClassVar[int] = 8


def dpo_rows(rows: list[dict], tokenizer, config: DPORunConfig) -> list[dict]:
    """Conversational TRL preference rows with each prompt cut to the room its responses leave."""
    out = []
    for r in rows:
        longest = max(len(tokenizer(r[k], add_special_tokens=False)["input_ids"]) for k in ("chosen", "rejected"))
        room = max(8, min(config.max_prompt_length, config.max_length - longest - 2))
        out.append({"prompt": truncate_prompt_left(as_chat(r["prompt"]), tokenizer, room),
                    "chosen": [{"role": "assistant", "content": r["chosen"]}],
                    "rejected": [{"role": "assistant", "content": r["rejected"]}]})
    return out


def train_dpo(config: DPORunConfig, rows: list[dict], out: str, *, source: str, resume: bool = False,
              settings=None, callbacks=()) -> dict:
    """Train on preference `rows` (prompt, chosen, rejected) and register policy version `out`."""
    def measure(trainer, train, heldout) -> dict:
        scores = trainer.evaluate()
        return {"heldout_reward_accuracy": scores.get("eval_rewards/accuracies"),
                "heldout_reward_margin": scores.get("eval_rewards/margins"),
                "heldout_loss": scores.get("eval_loss"), "heldout_pairs": len(heldout),
                "train_pairs": len(train), "steps": trainer.state.global_step}

    return train_version(config, rows, out, kind="policy", what="preference pairs",
                         build=policy_trainer(DPOTrainer, config, dpo_rows), measure=measure,
                         source=source, resume=resume, settings=settings, callbacks=callbacks)
