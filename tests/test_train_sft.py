"""`botkit train sft` really trains the tiny random Llama: the adapter changes, the held-out loss is
measured, the version is registered with its curves, and prompt tuning works as well as LoRA."""

from __future__ import annotations

import json
import math

from botkit.feedback.registry import ModelRegistry
from botkit.feedback.train_config import SFTRunConfig, load_config
from botkit.feedback.train_sft import train_sft
from tests.test_train_data import WeightWatch

COPY = [{"prompt": f"Write a line about kettle model {i}.",
         "completion": f"The Heron {i} pours slowly, so every cup tastes the way you like it."} for i in range(10)]


def test_sft_lora_changes_the_adapter_and_registers_a_version(settings, tiny_model_dir):
    watch = WeightWatch()
    config = load_config(SFTRunConfig, model=str(tiny_model_dir), max_steps=3, learning_rate=1e-2)
    version = train_sft(config, COPY, "brand-sft", source="copy.jsonl", callbacks=[watch])
    assert watch.changed("lora_B"), "LoRA weights did not move"
    metrics = version["metrics"]
    assert math.isfinite(metrics["heldout_loss"]) and metrics["steps"] == 3
    assert version["kind"] == "policy" and version["base"] == str(tiny_model_dir.resolve())
    assert version["data"]["train"] + version["data"]["heldout"] == len(COPY) and len(version["data"]["sha256"]) == 64
    saved = json.loads((settings.home / "models" / "brand-sft" / "metrics.json").read_text())
    assert [h["step"] for h in saved["history"] if "loss" in h] == [1, 2, 3]  # the loss curve
    assert ModelRegistry.open(settings).run("brand-sft")["status"] == "finished"


def test_sft_prompt_tuning_trains_a_soft_prompt(settings, tiny_model_dir):
    watch = WeightWatch()
    config = load_config(SFTRunConfig, model=str(tiny_model_dir), max_steps=2, learning_rate=1e-1,
                         peft="prompt-tuning", num_virtual_tokens=4)
    version = train_sft(config, [{"text": row["completion"]} for row in COPY], "brand-soft", source="copy.jsonl",
                        callbacks=[watch])
    assert watch.changed("prompt_encoder") and math.isfinite(version["metrics"]["heldout_loss"])
    adapter = json.loads((settings.home / "models" / "brand-soft" / "adapter_config.json").read_text())
    assert adapter["peft_type"] == "PROMPT_TUNING" and adapter["base_model_name_or_path"] == str(tiny_model_dir.resolve())
