"""`botkit train dpo`: direct preference optimisation of the brand-voice model with TRL's DPOTrainer
and a LoRA (or prompt-tuning) adapter; the base (adapter off) is the reference. Held-out: reward accuracy and margins.

Prompts are cut from the left before TRL sees them (TRL only truncates the end of prompt + response),
leaving the longer response of each pair whole up to `max_length`.
"""

from __future__ import annotations

from botkit.feedback.train_config import DPORunConfig
from botkit.feedback.train_data import as_chat, require, snapshot, split, truncate_prompt_left
from botkit.feedback.train_run import Run, load_policy, peft_config


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
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from botkit.config import load_settings

    settings = settings or load_settings()
    require(rows, config.min_examples, "preference pairs", source)
    train, heldout = split(rows, config.test_fraction, config.seed)
    with Run(out, config, snapshot(train, heldout, source), resume=resume, settings=settings,
             callbacks=callbacks) as run:
        base, model, tokenizer, parent = load_policy(config, settings)
        args = run.arguments(DPOConfig, max_length=config.max_length, beta=config.beta, loss_type=[config.loss_type],
                             precompute_ref_log_probs=config.precompute_ref_log_probs)
        trainer = DPOTrainer(model=model, args=args, processing_class=tokenizer,
                             train_dataset=Dataset.from_list(dpo_rows(train, tokenizer, config)),
                             eval_dataset=Dataset.from_list(dpo_rows(heldout, tokenizer, config)),
                             peft_config=None if parent else peft_config(config, "CAUSAL_LM"),
                             callbacks=run.callbacks())
        run.fit(trainer)
        scores = trainer.evaluate()
        metrics = {"heldout_reward_accuracy": scores.get("eval_rewards/accuracies"),
                   "heldout_reward_margin": scores.get("eval_rewards/margins"),
                   "heldout_loss": scores.get("eval_loss"), "heldout_pairs": len(heldout),
                   "train_pairs": len(train), "steps": trainer.state.global_step}
        run.save_heldout(heldout)
        return run.finish(trainer, kind="policy", base=base, metrics=metrics, parent=parent)
