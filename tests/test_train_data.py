"""Training data and configs: the held-out split, left truncation of prompts, bad input, YAML configs.
Also holds what the other training tests share: a separable synthetic preference (polite copy is
preferred to SHOUTING copy) and a callback that records whether training changed the adapter."""

from __future__ import annotations

import json
import random

import pytest
from transformers import TrainerCallback

from botkit.errors import BotkitError
from botkit.feedback.train_config import DPORunConfig, RewardRunConfig, RLRunConfig, load_config
from botkit.feedback.train_data import read_preference_file, split, truncate_prompt_left

PRODUCTS = ["kettle", "toaster", "grinder", "gift card", "descaler", "travel mug", "teapot", "milk frother"]
ASKS = ["Write a line about our {p}.", "Describe the {p} for a newsletter.", "Tell a customer about the {p}.",
        "Give me ad copy for the {p}.", "Say something nice about the {p}."]
POLITE = ["Thank you for choosing our {p}; we hope it brightens your mornings.",
          "We would be delighted to help you find the right {p} for your kitchen.",
          "Our {p} is made with care, and we are happy to answer any question.",
          "Please enjoy the {p}, and let us know how we can make it even better."]
SHOUTING = ["BUY THE {P} NOW!!! BEST DEAL EVER!!!", "THE {P} IS AMAZING, DON'T MISS OUT!!!",
            "HURRY!!! {P} SALE ENDS TODAY!!!", "YOU NEED THIS {P} RIGHT NOW!!!"]


def polite_vs_shouting(n: int, seed: int = 0) -> list[dict]:
    """`n` TRL preference rows, each with its own prompt: the polite answer is chosen."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        product = rng.choice(PRODUCTS)
        rows.append({"prompt": rng.choice(ASKS).format(p=product) + f" (brief {seed}-{i})",
                     "chosen": rng.choice(POLITE).format(p=product),
                     "rejected": rng.choice(SHOUTING).format(P=product.upper())})
    return rows


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


class WeightWatch(TrainerCallback):
    """Records the trainable (adapter) parameters before and after training."""

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self.after = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

    def changed(self, part: str = "") -> list[str]:
        import torch

        return [n for n in self.before if part in n and not torch.equal(self.before[n], self.after[n])]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_split_is_deterministic_and_keeps_each_prompt_on_one_side():
    rows = polite_vs_shouting(30)
    rows += [dict(rows[0], chosen="Thanks, kindly.")]  # a second pair on the first prompt
    train, held = split(rows, 0.2, seed=0)
    again = split(list(reversed(rows)), 0.2, seed=0)[1]  # the order of the file does not matter
    assert sorted(map(json.dumps, again)) == sorted(map(json.dumps, held))
    assert len(held) >= 6 and len(train) + len(held) == len(rows)
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in held}
    assert split(rows, 0.2, seed=1)[1] != held  # the seed picks another held-out set
    assert len(split(polite_vs_shouting(3), 0.01, seed=0)[1]) == 1  # even tiny data keeps one held out


def test_long_prompts_are_cut_from_the_left(tokenizer):
    text = " ".join(f"word{i}" for i in range(300)) + " What is the warranty?"
    cut = truncate_prompt_left(text, tokenizer, 20)
    assert cut.endswith("What is the warranty?") and len(tokenizer(cut, add_special_tokens=False)["input_ids"]) <= 20
    chat = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "old " * 200},
            {"role": "assistant", "content": "ok"}, {"role": "user", "content": "filler " * 100 + "the real question?"}]
    kept = truncate_prompt_left(chat, tokenizer, 60)
    assert kept[0] == chat[0] and kept[-1]["content"].endswith("the real question?") and len(kept) == 2


def test_dpo_rows_keep_responses_whole(tokenizer):
    from botkit.feedback.train_dpo import dpo_rows

    config = load_config(DPORunConfig, max_length=64, max_prompt_length=48)
    row = {"prompt": "blah " * 400 + "Write about the kettle.", "chosen": "Our kettle is lovely and quiet.",
           "rejected": "BUY THE KETTLE NOW!!!"}
    [out] = dpo_rows([row], tokenizer, config)
    assert out["chosen"][0]["content"] == row["chosen"] and out["rejected"][0]["content"] == row["rejected"]
    assert out["prompt"][-1]["content"].endswith("Write about the kettle.")
    ids = tokenizer.apply_chat_template(out["prompt"] + out["chosen"], tokenize=True, return_dict=True)["input_ids"]
    assert len(ids) <= 64 + 8  # the chat template's closing tokens may add a few


def test_bad_preference_files_are_named_precisely(tmp_path):
    rows = polite_vs_shouting(6)
    rows[2]["rejected"] = "  "
    write_jsonl(tmp_path / "pairs.jsonl", rows)
    with pytest.raises(BotkitError, match="line 3: empty rejected"):
        read_preference_file(tmp_path / "pairs.jsonl")


def test_config_precedence_profile_yaml_flags(tmp_path):
    assert load_config(DPORunConfig).precompute_ref_log_probs is True  # cpu profile
    gpu = load_config(DPORunConfig, profile="gpu")
    assert gpu.bf16 and gpu.gradient_checkpointing and not gpu.precompute_ref_log_probs
    path = tmp_path / "rm.yaml"
    path.write_text("learning_rate: 1e-4\nnum_train_epochs: 3\nprofile: gpu\n")
    config = load_config(RewardRunConfig, path, None, num_train_epochs=1)
    assert (config.learning_rate, config.num_train_epochs, config.profile) == (1e-4, 1, "gpu")
    path.write_text("learning_rat: 1\n")
    with pytest.raises(BotkitError, match="unknown rm setting.*learning_rat"):
        load_config(RewardRunConfig, path)
    with pytest.raises(BotkitError, match="num_generations"):
        load_config(RLRunConfig, num_generations=3)
