"""A training run killed halfway is never listed as a version, and `--resume` continues it from its
last complete checkpoint instead of starting over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from transformers import TrainerCallback

from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.training.config import load_config
from botkit.feedback.training.sft import SFTRunConfig, train_sft
from botkit.models.catalog import list_models

COPY = [{"prompt": f"Write a line about kettle model {i}.",
         "completion": f"The Heron {i} pours slowly, so every cup tastes the way you like it."} for i in range(10)]


class StepCounter(TrainerCallback):
    def __init__(self):
        self.steps = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def _wait_for(path, proc, timeout=180):
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the training process never wrote {path} (exit code {proc.poll()})")
        time.sleep(0.2)


def test_killed_run_is_not_registered_and_resumes(settings, tiny_model_dir, tmp_path, write_jsonl):
    data, fast = tmp_path / "copy.jsonl", tmp_path / "fast.yaml"
    write_jsonl(data, COPY)
    fast.write_text("save_steps: 1\nlearning_rate: 0.01\n")
    command = [sys.executable, "-m", "botkit", "train", "sft", "--data", str(data), "--out", "brand-sft",
               "--model", str(tiny_model_dir), "--config", str(fast)]
    run_dir = settings.home / "models" / "brand-sft"
    with open(tmp_path / "log.txt", "w") as log:
        proc = subprocess.Popen(command + ["--max-steps", "1000"], stdout=log, stderr=log, env=os.environ.copy())
        _wait_for(run_dir / "checkpoints" / "checkpoint-2" / "trainer_state.json", proc)
        proc.kill()
        proc.wait()

    registry = ModelRegistry.open(settings)
    assert registry.get("brand-sft") is None
    assert "brand-sft" not in [row["name"] for row in list_models()]
    assert registry.runs()[0]["status"] == "interrupted"
    done_before = max(int(p.name.split("-")[1]) for p in (run_dir / "checkpoints").glob("checkpoint-*")
                      if (p / "trainer_state.json").exists())
    assert json.loads((run_dir / "run.json").read_text())["method"] == "sft"
    config = load_config(SFTRunConfig, model=str(tiny_model_dir), save_steps=1, learning_rate=0.01,
                         max_steps=done_before + 3)
    with pytest.raises(BotkitError, match="--resume"):
        train_sft(config, COPY, "brand-sft", source=str(data))

    counter = StepCounter()
    version = train_sft(config, COPY, "brand-sft", source=str(data), resume=True, callbacks=[counter])
    assert counter.steps == [done_before + 1, done_before + 2, done_before + 3]  # continued, not restarted
    assert version["metrics"]["steps"] == done_before + 3 and registry.run("brand-sft")["status"] == "finished"
    assert not (run_dir / "checkpoints").exists()
