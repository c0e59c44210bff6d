"""`botkit train dpo` really trains the tiny random Llama with LoRA: on clearly separable pairs
(polite copy preferred to SHOUTING) the new version prefers the polite answers it never saw more
than its base does, and it loads by name as a chat model."""

from __future__ import annotations

import torch

from botkit.feedback.training.config import load_config
from botkit.feedback.training.dpo import DPORunConfig, train_dpo
from botkit.models.loading import load_engine


def answer_log_prob(engine, prompt: str, answer: str) -> float:
    """The model's log-probability of `answer` after `prompt` (chat template applied)."""
    chat = [{"role": "user", "content": prompt}]
    head = engine.tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt",
                                                return_dict=True)["input_ids"]
    whole = engine.tokenizer.apply_chat_template(chat + [{"role": "assistant", "content": answer}],
                                                 return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        logits = engine.model(input_ids=whole).logits[0, :-1].log_softmax(-1)
    targets = whole[0, 1:]
    return logits[head.shape[1] - 1:].gather(1, targets[head.shape[1] - 1:, None]).sum().item()


def margin(engine, pair: dict) -> float:
    """How much more likely the model finds the chosen answer than the rejected one (log-odds)."""
    return (answer_log_prob(engine, pair["prompt"], pair["chosen"])
            - answer_log_prob(engine, pair["prompt"], pair["rejected"]))


def test_dpo_learns_to_prefer_the_heldout_chosen_answers(settings, tiny_model_dir, tiny_engine, weight_watch,
                                                        polite_vs_shouting):
    config = load_config(DPORunConfig, model=str(tiny_model_dir), max_steps=6, learning_rate=1e-2,
                         per_device_train_batch_size=4, max_length=96, max_prompt_length=48)
    version = train_dpo(config, polite_vs_shouting(20), "brand-dpo", source="pairs.jsonl", callbacks=[weight_watch])
    assert weight_watch.changed("lora_B"), "LoRA weights did not move"
    metrics = version["metrics"]
    assert metrics["heldout_pairs"] == 4 and metrics["steps"] == 6
    assert metrics["heldout_reward_accuracy"] > 0.5 and metrics["heldout_reward_margin"] > 0, metrics
    heldout = (settings.home / "models" / "brand-dpo" / "heldout.jsonl").read_text().splitlines()
    assert len(heldout) == metrics["heldout_pairs"]

    # The registered version, loaded by name, has moved towards the chosen answers on pairs it never saw.
    trained = load_engine("brand-dpo")
    for pair in polite_vs_shouting(3, seed=9):
        assert margin(trained, pair) > margin(tiny_engine, pair), pair
