"""`botkit train ...` from the command line: --help lists every setting (TRL's and botkit's) with the
profile's defaults, settings stack up profile < --config file < flags in the registered version, and
a mistyped flag is one `error:` line."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from botkit.cli import app

COPY = [{"prompt": f"Write a line about kettle model {i}.",
         "completion": f"The Heron {i} pours slowly, so every cup tastes the way you like it."} for i in range(8)]


def test_help_lists_every_setting_with_the_profile_defaults():
    shown = CliRunner().invoke(app, ["train", "dpo", "--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    for flag in ("--from-store", "--out", "--profile", "--config", "--resume", "--json",  # the command's own
                 "--beta", "--precompute_ref_log_probs", "--num_train_epochs", "--gradient_accumulation_steps",  # TRL's
                 "--lora_r", "--peft {lora,prompt-tuning}", "--test_fraction", "--max_prompt_length"):  # botkit's
        assert flag in text, flag
    assert "--epochs is num_train_epochs" in text
    assert "(default: 5e-05)" in text  # the cpu profile's DPO learning rate, not TRL's 1e-06
    rm_help = " ".join(CliRunner().invoke(app, ["train", "rm", "--help"], terminal_width=200).output.split())
    assert "--backbone" in rm_help and "--center_rewards_coefficient" in rm_help


def test_settings_stack_profile_then_file_then_flags(settings, tiny_model_dir, tmp_path, write_jsonl):
    data, config = tmp_path / "copy.jsonl", tmp_path / "sft.yaml"
    write_jsonl(data, COPY)
    config.write_text("learning_rate: 1.0e-3\nlora_r: 4\nlogging_steps: 2\n")
    done = CliRunner().invoke(app, ["train", "sft", "--data", str(data), "--out", "cli-sft", "--config", str(config),
                                    "--model", str(tiny_model_dir), "--max-steps", "2", "--learning-rate", "0.01",
                                    "--batch-size", "2", "--json"])
    assert done.exit_code == 0, done.output
    version = json.loads(done.stdout)
    recorded = version["config"]
    assert recorded["learning_rate"] == 0.01 and recorded["per_device_train_batch_size"] == 2  # flags
    assert recorded["lora_r"] == 4 and recorded["logging_steps"] == 2  # the file
    assert recorded["save_steps"] == 25 and recorded["profile"] == "cpu" and not recorded["bf16"]  # the profile
    assert version["metrics"]["steps"] == 2 and version["name"] == "cli-sft"


def test_a_mistyped_flag_is_one_error_line(tmp_path, write_jsonl):
    write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": "p", "chosen": "a", "rejected": "b"}])
    done = subprocess.run([sys.executable, "-m", "botkit", "train", "dpo", "--data", str(tmp_path / "pairs.jsonl"),
                           "--out", "x", "--beta", "0.2", "--max-stps", "3"], capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: unknown option(s) --max-stps 3 (see `botkit train dpo --help`)"]
