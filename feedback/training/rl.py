"""`botkit train rl`: online RL of the brand-voice model against a trained reward model, with TRL's
GRPOTrainer (PPO's clipped surrogate over groups of sampled answers; TRL no longer ships PPOTrainer),
a LoRA adapter and a KL penalty (`beta`) to the base. Held-out: the reward model's score of the new
policy's answers against the base's on held-out prompts, both answered by botkit's own engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from trl import GRPOConfig

from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.training.adapters import load_policy, new_adapter
from botkit.feedback.training.base import Built, train_version
from botkit.feedback.training.config import BotkitFields
from botkit.feedback.training.data import as_chat, truncate_prompt_left
from botkit.feedback.training.reward import RewardScorer


@dataclass
class RLRunConfig(GRPOConfig, BotkitFields):
    """TRL's GRPOConfig with botkit's fields and the reward version to optimise."""

    reward_model: str | None = field(default=None, metadata={
        "help": "The registered reward version to optimise; the newest one when unset."})

    method: ClassVar[str] = "rl"


def reward_function(scorer: RewardScorer):
    """A TRL reward function (a plain callable) scoring completions with `scorer`."""
    def reward_model_score(prompts, completions, **kwargs) -> list[float]:
        texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
        return scorer.score(list(prompts), texts)

    return reward_model_score


def heldout_rewards(model, tokenizer, scorer: RewardScorer, prompts: list, max_new_tokens: int) -> dict:
    """Mean reward of the adapted policy's greedy answers and of the base's (adapter off) on `prompts`,
    and how often the policy's answer scored higher."""
    from botkit.decoding import DecodingOptions
    from botkit.models.transformers_engine import TransformersEngine

    engine = TransformersEngine(model.eval(), tokenizer, "training")
    chats, options = [as_chat(p) for p in prompts], DecodingOptions(max_new_tokens=max_new_tokens)
    tuned = scorer.score(prompts, [g.text for g in engine.generate_batch(chats, options)])
    with model.disable_adapter():
        base = scorer.score(prompts, [g.text for g in engine.generate_batch(chats, options)])
    wins = sum(1.0 if t > b else 0.5 if t == b else 0.0 for t, b in zip(tuned, base))
    return {"heldout_reward": sum(tuned) / len(tuned), "heldout_base_reward": sum(base) / len(base),
            "heldout_win_rate_vs_base": wins / len(tuned), "heldout_prompts": len(prompts)}


def train_rl(config: RLRunConfig, rows: list[dict], out: str, *, source: str, resume: bool = False,
             settings=None, callbacks=()) -> dict:
    """Optimise the policy on `rows` ({"prompt"}) against `config.reward_model`; register version `out`."""
    from botkit.config import load_settings

    settings = settings or load_settings()
    config.reward_model = config.reward_model or (ModelRegistry.open(settings).latest("reward") or {}).get("name")
    if not config.reward_model:
        raise BotkitError("online RL needs a reward model: train one with `botkit train rm` "
                          "(or name it with --reward-model)")
    scorer = RewardScorer.load(config.reward_model, settings)  # a typo fails before the run starts

    def build(train, heldout, settings) -> Built:
        from datasets import Dataset
        from trl import GRPOTrainer

        policy = load_policy(config, settings)
        policy.tokenizer.padding_side = "left"  # generation pads on the left
        prompts = [{"prompt": truncate_prompt_left(as_chat(r["prompt"]), policy.tokenizer, config.max_prompt_length)}
                   for r in train]
        trainer = GRPOTrainer(model=policy.model, reward_funcs=[reward_function(scorer)], args=config,
                              train_dataset=Dataset.from_list(prompts), processing_class=policy.tokenizer,
                              peft_config=new_adapter(config, policy))
        return Built(trainer, policy.base, policy.parent)

    def measure(trainer, train, heldout) -> dict:
        return {**heldout_rewards(trainer.model, trainer.processing_class, scorer, [r["prompt"] for r in heldout],
                                  config.max_completion_length),
                "reward_model": config.reward_model, "train_prompts": len(train), "steps": trainer.state.global_step}

    return train_version(config, rows, out, kind="policy", what="prompts", build=build, measure=measure,
                         source=source, resume=resume, settings=settings, callbacks=callbacks)
