"""Training data and settings: the held-out split, left truncation of prompts, bad input, and how a
config is built from TRL's defaults, a profile, a YAML file and flags."""

from __future__ import annotations

import json

import pytest

from botkit.errors import BotkitError
from botkit.feedback.training.config import load_config
from botkit.feedback.training.data import read_preference_file, split, truncate_prompt_left
from botkit.feedback.training.dpo import DPORunConfig, dpo_rows
from botkit.feedback.training.reward import RewardRunConfig
from botkit.feedback.training.rl import RLRunConfig


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_split_is_deterministic_and_keeps_each_prompt_on_one_side(polite_vs_shouting):
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
    config = load_config(DPORunConfig, max_length=64, max_prompt_length=48)
    row = {"prompt": "blah " * 400 + "Write about the kettle.", "chosen": "Our kettle is lovely and quiet.",
           "rejected": "BUY THE KETTLE NOW!!!"}
    [out] = dpo_rows([row], tokenizer, config)
    assert out["chosen"][0]["content"] == row["chosen"] and out["rejected"][0]["content"] == row["rejected"]
    assert out["prompt"][-1]["content"].endswith("Write about the kettle.")
    ids = tokenizer.apply_chat_template(out["prompt"] + out["chosen"], tokenize=True, return_dict=True)["input_ids"]
    assert len(ids) <= 64 + 8  # the chat template's closing tokens may add a few


def test_bad_preference_files_are_named_precisely(tmp_path, polite_vs_shouting, write_jsonl):
    rows = polite_vs_shouting(6)
    rows[2]["rejected"] = "  "
    write_jsonl(tmp_path / "pairs.jsonl", rows)
    with pytest.raises(BotkitError, match="line 3: empty rejected"):
        read_preference_file(tmp_path / "pairs.jsonl")


def test_settings_come_from_profile_then_yaml_then_flags(tmp_path):
    cpu = load_config(DPORunConfig)
    assert (cpu.profile, cpu.bf16, cpu.per_device_train_batch_size) == ("cpu", False, 4)
    assert cpu.precompute_ref_log_probs  # the cpu profile's DPO section
    assert cpu.learning_rate == 5e-5  # the cpu profile's DPO section over TRL's 1e-6
    # This machine has no GPU, so the gpu profile's bf16 is switched off by a flag to read the rest.
    gpu = load_config(DPORunConfig, profile="gpu", args=["--bf16", "false"])
    assert gpu.activation_checkpointing and not gpu.precompute_ref_log_probs and gpu.per_device_train_batch_size == 16
    path = tmp_path / "rm.yaml"
    path.write_text("learning_rate: 1e-4\nnum_train_epochs: 3\nlora_r: 4\nprofile: gpu\nbf16: false\n")
    config = load_config(RewardRunConfig, path, args=["--epochs", "1", "--backbone", "policy"])
    assert (config.learning_rate, config.lora_r, config.profile) == (1e-4, 4, "gpu")  # the file over the profile
    assert config.per_device_train_batch_size == 32  # the gpu profile's rm section, not overridden
    assert (config.num_train_epochs, config.model) == (1, "policy")  # flags (and their aliases) over the file
    assert load_config(RewardRunConfig, path, "cpu", bf16=None).per_device_train_batch_size == 16  # --profile wins


@pytest.mark.parametrize(("where", "args", "message"), [
    ("yaml", "learning_rat: 1\n", "unknown rm setting.*learning_rat"),
    ("yaml", "learning_rate: fast\n", "invalid float value: 'fast'"),
    ("flags", ["--learning-rat", "1"], r"unknown option\(s\) --learning-rat 1"),
    ("flags", ["--max-steps", "ten"], "--max-steps: invalid int value: 'ten'"),
    ("flags", ["--peft", "qlora"], "invalid choice: 'qlora'"),
])
def test_setting_mistakes_are_one_line_errors(tmp_path, where, args, message):
    path = None
    if where == "yaml":
        path = tmp_path / "rm.yaml"
        path.write_text(args)
        args = []
    with pytest.raises(BotkitError, match=message) as caught:
        load_config(RewardRunConfig, path, args=args)
    assert "\n" not in str(caught.value)


def test_rl_group_size_must_divide_the_batch():
    with pytest.raises(BotkitError, match="divisible by num_generations"):
        load_config(RLRunConfig, num_generations=3)


def test_export_and_training_from_the_store_hold_out_the_same_prompts(settings, tmp_path):
    """`feedback export --test-fraction F --seed S` and `train --from-store --test_fraction F --seed S`
    keep the same prompts apart, conversational prompts included."""
    from botkit.feedback.store import RankingStore
    from botkit.feedback.training.data import preferences_from_store

    store = RankingStore.open(settings)
    maya = store.add_annotator("maya")
    for n in range(24):
        chat = [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello."},
                {"role": "user", "content": f"Tell me about kettle {n}."}] if n % 3 == 0 else None
        for k in range(2):  # two pairs on each prompt
            ask = f"Tell me about kettle {n}."
            a = store.log_response(ask, f"Kettle {n} is lovely {k}.", model="v1", messages=chat)
            b = store.log_response(ask, f"KETTLE {n}!!! {k}", model="v2", messages=chat)
            pair = store.add_pair(a, b)
            store.record_comparison(pair, maya, "a" if store.pair(pair)["a_id"] == a else "b")
    config = load_config(RewardRunConfig, test_fraction=0.25, seed=3)
    store.export_trl(tmp_path / "prefs.jsonl", test_fraction=config.test_fraction, seed=config.seed)
    exported = [json.loads(line) for line in (tmp_path / "prefs.test.jsonl").read_text().splitlines()]
    train, held = split(preferences_from_store(settings), config.test_fraction, config.seed)
    assert len(exported) == len(held) == 12  # 6 of 24 prompts, two pairs each
    assert sorted(json.dumps(r["prompt"]) for r in exported) == sorted(json.dumps(r["prompt"]) for r in held)
    assert any(isinstance(r["prompt"], list) for r in train + held)
