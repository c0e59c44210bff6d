"""`botkit train rl`: online RL of the brand-voice model against a trained reward model, with TRL's
GRPOTrainer (PPO's clipped surrogate over groups of sampled answers; TRL no longer ships PPOTrainer),
a LoRA adapter and a KL penalty (`beta`) to the base. Held-out: the reward model's score of the new
policy's answers against the base's on held-out prompts.
"""

from __future__ import annotations

from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.train_config import RLRunConfig
from botkit.feedback.train_data import as_chat, require, snapshot, split, truncate_prompt_left
from botkit.feedback.train_rm import RewardScorer
from botkit.feedback.train_run import Run, load_policy, peft_config


def _text(completion) -> str:
    return completion if isinstance(completion, str) else completion[-1]["content"]


def reward_function(scorer: RewardScorer):
    """A TRL reward function (plain callable) scoring completions with `scorer`."""
    def reward_model_score(prompts, completions, **kwargs) -> list[float]:
        return scorer.score(list(prompts), [_text(c) for c in completions])

    return reward_model_score


def generate(model, tokenizer, prompts: list, max_new_tokens: int) -> list[str]:
    """Greedy answers, one per prompt (chat template applied)."""
    import torch

    device = next(model.parameters()).device
    answers = []
    for prompt in prompts:
        inputs = tokenizer.apply_chat_template(as_chat(prompt), add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True).to(device)
        with torch.no_grad():
            ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        answers.append(tokenizer.decode(ids[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))
    return answers


def heldout_rewards(model, tokenizer, scorer: RewardScorer, prompts: list, max_new_tokens: int) -> dict:
    """Mean reward of the adapted policy and of the base (adapter off) on `prompts`, and how often
    the policy's answer scored higher."""
    model.eval()
    tuned = scorer.score(prompts, generate(model, tokenizer, prompts, max_new_tokens))
    with model.disable_adapter():
        base = scorer.score(prompts, generate(model, tokenizer, prompts, max_new_tokens))
    wins = sum(1.0 if t > b else 0.5 if t == b else 0.0 for t, b in zip(tuned, base))
    return {"heldout_reward": sum(tuned) / len(tuned), "heldout_base_reward": sum(base) / len(base),
            "heldout_win_rate_vs_base": wins / len(tuned), "heldout_prompts": len(prompts)}


def train_rl(config: RLRunConfig, rows: list[dict], out: str, *, source: str, resume: bool = False,
             settings=None, callbacks=()) -> dict:
    """Optimise the policy on `rows` ({"prompt"}) against `config.reward_model`; register version `out`."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from botkit.config import load_settings

    settings = settings or load_settings()
    reward_name = config.reward_model or (ModelRegistry.open(settings).latest("reward") or {}).get("name")
    if not reward_name:
        raise BotkitError("online RL needs a reward model: train one with `botkit train rm` (or name it with --reward-model)")
    config.reward_model = reward_name
    scorer = RewardScorer.load(reward_name, settings)
    require(rows, config.min_examples, "prompts", source)
    train, heldout = split(rows, config.test_fraction, config.seed)
    with Run(out, config, snapshot(train, heldout, source), resume=resume, settings=settings,
             callbacks=callbacks) as run:
        base, model, tokenizer, parent = load_policy(config, settings)
        tokenizer.padding_side = "left"  # generation pads on the left
        args = run.arguments(GRPOConfig, beta=config.beta, num_generations=config.num_generations,
                             max_completion_length=config.max_completion_length, temperature=config.temperature)
        prompts = [{"prompt": truncate_prompt_left(as_chat(r["prompt"]), tokenizer, config.max_prompt_length)}
                   for r in train]
        trainer = GRPOTrainer(model=model, reward_funcs=[reward_function(scorer)], args=args,
                              train_dataset=Dataset.from_list(prompts), processing_class=tokenizer,
                              peft_config=None if parent else peft_config(config, "CAUSAL_LM"),
                              callbacks=run.callbacks())
        run.fit(trainer)
        metrics = {**heldout_rewards(trainer.model, tokenizer, scorer, [r["prompt"] for r in heldout],
                                     config.max_completion_length),
                   "reward_model": reward_name, "train_prompts": len(train), "steps": trainer.state.global_step}
        run.save_heldout(heldout)
        return run.finish(trainer, kind="policy", base=base, metrics=metrics, parent=parent)
