"""`botkit train rl` really trains the tiny random Llama with GRPO against a trained reward model
(here a reward head on the tiny model itself, the `--backbone policy` path) and scores the new
policy against the base on held-out prompts."""

from __future__ import annotations

import pytest

from botkit.errors import BotkitError
from botkit.feedback.train_config import RewardRunConfig, RLRunConfig, load_config
from botkit.feedback.train_rl import train_rl
from botkit.feedback.train_rm import train_reward_model
from tests.test_train_data import WeightWatch, polite_vs_shouting


def test_rl_needs_a_reward_model(settings, tiny_model_dir):
    with pytest.raises(BotkitError, match="train one with `botkit train rm`"):
        train_rl(load_config(RLRunConfig, model=str(tiny_model_dir)), [{"prompt": "hi"}] * 4, "x", source="t")


def test_grpo_changes_lora_weights_against_the_reward_model(settings, tiny_model_dir):
    rm_config = load_config(RewardRunConfig, model=str(tiny_model_dir), max_steps=1, max_length=64, max_prompt_length=32)
    train_reward_model(rm_config, polite_vs_shouting(10), "tiny-rm", source="pairs.jsonl")
    watch = WeightWatch()
    config = load_config(RLRunConfig, model=str(tiny_model_dir), max_steps=1, learning_rate=1e-2,
                         max_completion_length=8, num_generations=2, per_device_train_batch_size=2)
    prompts = [{"prompt": row["prompt"]} for row in polite_vs_shouting(8)]
    version = train_rl(config, prompts, "brand-rl", source="prompts.jsonl", callbacks=[watch])
    assert watch.changed("lora_B"), "LoRA weights did not move"
    metrics = version["metrics"]
    assert metrics["reward_model"] == "tiny-rm" and metrics["heldout_prompts"] >= 1
    assert 0 <= metrics["heldout_win_rate_vs_base"] <= 1 and isinstance(metrics["heldout_reward"], float)
    assert version["config"]["beta"] > 0  # a KL penalty to the base
