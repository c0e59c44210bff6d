"""`botkit train rl` really trains the tiny random Llama with GRPO against a registered reward model
(a reward head on the tiny model itself, the `--backbone policy` path); the held-out figures it
reports are what the registered version really answers, scored by that reward model."""

from __future__ import annotations

import json

import pytest

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError
from botkit.feedback.training.config import load_config
from botkit.feedback.training.reward import RewardRunConfig, RewardScorer, train_reward_model
from botkit.feedback.training.rl import RLRunConfig, train_rl
from botkit.models.loading import load_engine


def test_rl_needs_a_reward_model_before_any_run_starts(settings, tiny_model_dir):
    config = load_config(RLRunConfig, model=str(tiny_model_dir))
    with pytest.raises(BotkitError, match="train one with `botkit train rm`"):
        train_rl(config, [{"prompt": "hi"}] * 4, "x", source="t")
    with pytest.raises(BotkitError, match="no model version named 'tiny-rn'"):
        train_rl(load_config(RLRunConfig, model=str(tiny_model_dir), reward_model="tiny-rn"), [{"prompt": "hi"}] * 4,
                 "x", source="t")
    assert not (settings.home / "models" / "x").exists()


def test_grpo_trains_lora_and_reports_what_the_version_answers(settings, tiny_model_dir, weight_watch,
                                                              polite_vs_shouting):
    rm_config = load_config(RewardRunConfig, model=str(tiny_model_dir), max_steps=1, max_length=64,
                            max_prompt_length=32)
    train_reward_model(rm_config, polite_vs_shouting(10), "tiny-rm", source="pairs.jsonl")
    config = load_config(RLRunConfig, model=str(tiny_model_dir), max_steps=1, learning_rate=1e-2,
                         max_completion_length=8, num_generations=2, per_device_train_batch_size=2)
    prompts = [{"prompt": row["prompt"]} for row in polite_vs_shouting(8)]
    version = train_rl(config, prompts, "brand-rl", source="prompts.jsonl", callbacks=[weight_watch])
    assert weight_watch.changed("lora_B"), "LoRA weights did not move"
    metrics = version["metrics"]
    assert metrics["reward_model"] == "tiny-rm"  # the newest reward version, since none was named

    # Answer the held-out prompts with the registered version and score them: the reported figure.
    lines = (settings.home / "models" / "brand-rl" / "heldout.jsonl").read_text().splitlines()
    held = [json.loads(line)["prompt"] for line in lines]
    assert len(held) == metrics["heldout_prompts"] >= 1
    engine = load_engine("brand-rl")
    answers = [g.text for g in engine.generate_batch([[{"role": "user", "content": p}] for p in held],
                                                      DecodingOptions(max_new_tokens=8))]
    rewards = RewardScorer.load("tiny-rm", settings).score(held, answers)
    assert sum(rewards) / len(rewards) == pytest.approx(metrics["heldout_reward"], abs=1e-4)
