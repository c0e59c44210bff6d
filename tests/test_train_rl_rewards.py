"""`botkit train rl --reward grounding` on the tiny random Llama: a file of questions becomes the grounded
chats this home's bot would answer from, GRPO trains on them against the grounding check, and the version
it registers names the reward it was trained for and holds out whole questions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from botkit.cli import app
from botkit.dialogue import Bot
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.training.rewards import grounded_prompts

QUESTIONS = [
    {"question": "How long is the warranty on the Zephyr 3000 kettle?", "expected": ["seven years"]},
    {"question": "What's the price of the grinder and gooseneck kettle bundle?", "expected": ["$219"]},
    {"question": "What does it cost to send an order to Toronto?", "expected": ["$24.95"]},
    {"question": "How much do you charge for faster delivery?", "expected": ["$14.95"]},
    {"question": "Do I have to register my new kettle to keep the warranty valid?", "expected": ["not require"]},
    {"question": "Do you sell fridges?", "expected": ["no"]},  # declined by the bot: no RL prompt
]


@pytest.mark.slow  # minutes on 2 shared cores: ingest, two GRPO steps, the held-out answers
def test_train_rl_with_the_grounding_reward_registers_a_version_naming_it(settings, tiny_engine, tiny_model_dir,
                                                                        embedder, docs, write_jsonl, tmp_path,
                                                                        monkeypatch):
    Bot(settings, engine=tiny_engine, embedder=embedder).knowledge.ingest(docs)
    # A bot opened on the ingested documents (it picks its brand then), as the command opens one.
    built = grounded_prompts(Bot(settings, engine=tiny_engine, embedder=embedder), QUESTIONS)
    assert "Do you sell fridges?" not in {r["question"] for r in built}
    monkeypatch.setenv("BOTKIT_MODEL", str(tiny_model_dir))  # the bot building the chats counts with the tiny model
    monkeypatch.setenv("BOTKIT_ENGINE", "transformers")
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    done = CliRunner().invoke(app, ["train", "rl", "--reward", "grounding", "--data", str(questions), "--out", "g-rl",
                                    "--model", str(tiny_model_dir), "--max-steps", "2", "--num_generations", "2",
                                    "--per_device_train_batch_size", "2", "--max_completion_length", "8", "--json"])
    assert done.exit_code == 0, done.output
    version = json.loads(done.stdout)
    assert version["metrics"]["rewards"] == ["grounding"] and version["metrics"]["steps"] == 2
    assert ModelRegistry.open(settings).get("g-rl")["metrics"]["rewards"] == ["grounding"]
    held = [json.loads(line) for line in (settings.home / "models" / "g-rl" / "heldout.jsonl").read_text().splitlines()]
    assert len(held) == version["metrics"]["heldout_prompts"] >= 1
    # Held out are whole questions with the chat the bot itself builds for them.
    assert [h["prompt"] for h in held] == [r["prompt"] for r in built if r["question"] in {h["question"] for h in held}]
    assert version["metrics"]["train_prompts"] + len(held) == len(built)


def test_an_unknown_reward_is_one_error_line(settings, write_jsonl, tmp_path):
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"Write a line {i}"} for i in range(4)])
    done = subprocess.run([sys.executable, "-m", "botkit", "train", "rl", "--reward", "grounded",
                           "--data", str(prompts), "--out", "x"], capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: unknown reward 'grounded' (rewards: grounding, copy-checks, version:NAME)"]
