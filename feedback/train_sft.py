"""`botkit train sft`: supervised fine-tuning of the brand-voice model on the brand's own copy, with
TRL's SFTTrainer and a LoRA (or prompt-tuning) adapter. Held-out metric: loss and perplexity."""

from __future__ import annotations

import math

from botkit.errors import BotkitError
from botkit.feedback.train_config import SFTRunConfig
from botkit.feedback.train_data import as_chat, require, snapshot, split, truncate_prompt_left
from botkit.feedback.train_run import Run, load_policy, peft_config


def sft_rows(rows: list[dict], tokenizer, config: SFTRunConfig) -> list[dict]:
    """Rows in one TRL format: plain `text`, or a conversational prompt (cut from the left) + completion."""
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
        out.append({"prompt": truncate_prompt_left(as_chat(prompt), tokenizer, config.max_prompt_length),
                    "completion": [{"role": "assistant", "content": completion}]})
    return out


def train_sft(config: SFTRunConfig, rows: list[dict], out: str, *, source: str, resume: bool = False,
              settings=None, callbacks=()) -> dict:
    """Fine-tune on `rows` (see train_data.read_sft_file) and register the adapter as version `out`."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from botkit.config import load_settings

    settings = settings or load_settings()
    require(rows, config.min_examples, "examples", source)
    train, heldout = split(rows, config.test_fraction, config.seed)
    with Run(out, config, snapshot(train, heldout, source), resume=resume, settings=settings,
             callbacks=callbacks) as run:
        base, model, tokenizer, parent = load_policy(config, settings)
        args = run.arguments(SFTConfig, max_length=config.max_length, packing=False,
                             completion_only_loss=config.completion_only_loss)
        trainer = SFTTrainer(model=model, args=args, processing_class=tokenizer,
                             train_dataset=Dataset.from_list(sft_rows(train, tokenizer, config)),
                             eval_dataset=Dataset.from_list(sft_rows(heldout, tokenizer, config)),
                             peft_config=None if parent else peft_config(config, "CAUSAL_LM"),
                             callbacks=run.callbacks())
        run.fit(trainer)
        scores = trainer.evaluate()
        metrics = {"heldout_loss": scores["eval_loss"], "heldout_perplexity": math.exp(min(scores["eval_loss"], 50)),
                   "heldout_token_accuracy": scores.get("eval_mean_token_accuracy"),
                   "train_loss": _last(trainer.state.log_history, "train_loss"), "steps": trainer.state.global_step}
        return run.finish(trainer, kind="policy", base=base, metrics=metrics, parent=parent)


def _last(history: list[dict], key: str):
    values = [h[key] for h in history if key in h]
    return values[-1] if values else None
