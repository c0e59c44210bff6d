"""`botkit train dpo` really trains the tiny random Llama with LoRA and reports held-out reward
accuracy and margin (TRL's implicit DPO rewards)."""

from __future__ import annotations

import math

from botkit.feedback.train_config import DPORunConfig, load_config
from botkit.feedback.train_dpo import train_dpo
from tests.test_train_data import WeightWatch, polite_vs_shouting


def test_dpo_changes_lora_weights_and_measures_heldout_rewards(settings, tiny_model_dir):
    watch = WeightWatch()
    config = load_config(DPORunConfig, model=str(tiny_model_dir), max_steps=2, learning_rate=1e-2,
                         per_device_train_batch_size=4, max_length=96, max_prompt_length=48)
    version = train_dpo(config, polite_vs_shouting(12), "brand-dpo", source="pairs.jsonl", callbacks=[watch])
    assert watch.changed("lora_B"), "LoRA weights did not move"
    metrics = version["metrics"]
    assert 0 <= metrics["heldout_reward_accuracy"] <= 1 and math.isfinite(metrics["heldout_reward_margin"])
    assert metrics["heldout_pairs"] >= 2 and metrics["steps"] == 2
    assert (settings.home / "models" / "brand-dpo" / "heldout.jsonl").read_text().count("\n") == metrics["heldout_pairs"]
