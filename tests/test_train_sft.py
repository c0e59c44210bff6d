"""`botkit train sft` really trains the tiny random Llama: the adapter changes, the held-out loss is
measured, the version is registered with its curves and answers differently from its base, and
prompt tuning works as well as LoRA."""

from __future__ import annotations

import json
import math

import torch

from botkit.feedback.registry import ModelRegistry
from botkit.feedback.training.config import load_config
from botkit.feedback.training.sft import SFTRunConfig, train_sft
from botkit.models.loading import load_engine

COPY = [{"prompt": f"Write a line about kettle model {i}.",
         "completion": f"The Heron {i} pours slowly, so every cup tastes the way you like it."} for i in range(10)]


def next_token_logits(engine, text: str):
    ids = engine.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        return engine.model(**ids).logits[0, -1]


def test_sft_lora_changes_the_adapter_and_registers_a_version(settings, tiny_model_dir, tiny_engine, weight_watch):
    config = load_config(SFTRunConfig, model=str(tiny_model_dir), max_steps=3, learning_rate=1e-2)
    version = train_sft(config, COPY, "brand-sft", source="copy.jsonl", callbacks=[weight_watch])
    assert weight_watch.changed("lora_B"), "LoRA weights did not move"
    metrics = version["metrics"]
    assert math.isfinite(metrics["heldout_loss"]) and metrics["steps"] == 3
    assert version["kind"] == "policy" and version["base"] == str(tiny_model_dir.resolve())
    assert version["data"]["train"] + version["data"]["heldout"] == len(COPY) and len(version["data"]["sha256"]) == 64
    saved = json.loads((settings.home / "models" / "brand-sft" / "metrics.json").read_text())
    assert [h["step"] for h in saved["history"] if "loss" in h] == [1, 2, 3]  # the loss curve
    progress = json.loads((settings.home / "models" / "brand-sft" / "progress.json").read_text())
    assert (progress["step"], progress["max_steps"]) == (3, 3)  # what the Train page shows
    assert ModelRegistry.open(settings).run("brand-sft")["status"] == "finished"
    assert version["config"]["learning_rate"] == 1e-2 and version["config"]["peft"] == "lora"
    # The version loads by name wherever a model is accepted, and its adapter changes what the model says.
    trained = load_engine("brand-sft")
    prompt = "Write a line about kettle model 3."
    assert not torch.allclose(next_token_logits(trained, prompt), next_token_logits(tiny_engine, prompt))


def test_sft_prompt_tuning_trains_a_soft_prompt(settings, tiny_model_dir, weight_watch):
    config = load_config(SFTRunConfig, model=str(tiny_model_dir), max_steps=2, learning_rate=1e-1,
                         peft="prompt-tuning", num_virtual_tokens=4)
    version = train_sft(config, [{"text": row["completion"]} for row in COPY], "brand-soft", source="copy.jsonl",
                        callbacks=[weight_watch])
    assert weight_watch.changed("prompt_encoder") and math.isfinite(version["metrics"]["heldout_loss"])
    adapter = json.loads((settings.home / "models" / "brand-soft" / "adapter_config.json").read_text())
    assert adapter["peft_type"] == "PROMPT_TUNING"
    assert adapter["base_model_name_or_path"] == str(tiny_model_dir.resolve())
