"""A training run's directory (BOTKIT_HOME/models/NAME): the checks before it starts or resumes,
and training itself, from the last complete checkpoint with --resume, with advice on out-of-memory."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry, check_name, models_dir
from botkit.feedback.training.callbacks import write_json


def is_main_process() -> bool:
    """Under `accelerate launch` every process runs the command; only the first keeps the books."""
    return int(os.environ.get("RANK", "0")) == 0


@dataclass
class RunDirectory:
    name: str
    path: Path
    data: dict  # the data snapshot: sha256, counts, source
    settings: object
    started: float = field(default_factory=time.monotonic)

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def last_checkpoint(self) -> str | None:
        """The newest complete checkpoint. Trainer writes trainer_state.json last, so a run killed while
        saving leaves a directory without it, which resuming must skip."""
        def complete(path: Path) -> bool:
            try:
                json.loads((path / "trainer_state.json").read_text())
                return True
            except (OSError, ValueError):
                return False

        found = [p for p in self.checkpoints.glob("checkpoint-*") if p.name[11:].isdigit() and complete(p)]
        return str(max(found, key=lambda p: int(p.name[11:]))) if found else None


def open_run(name: str, config, data: dict, *, resume: bool, settings) -> RunDirectory:
    """The directory of run `name`, after checking that it may start (or, with `resume`, continue on
    the same data and method); records run.json and marks the run 'running' in the registry."""
    run = RunDirectory(check_name(name), models_dir(settings) / name, data, settings)
    if not is_main_process():
        return run
    registry = ModelRegistry.open(settings)
    if registry.get(name):
        raise BotkitError(f"{name} is already a registered version: choose another --out")
    recorded = run.path / "run.json"
    if resume:
        if run.last_checkpoint() is None:
            raise BotkitError(f"no checkpoint of {name} to resume (runs save one every {config.save_steps} steps): "
                              "start it again without --resume")
        before = json.loads(recorded.read_text())
        if before["data"]["sha256"] != data["sha256"]:
            raise BotkitError(f"{name} was started on other data ({before['data']['train']} training examples, "
                              f"sha256 {before['data']['sha256'][:12]}): resume it with the same data")
        if before["method"] != config.method:
            raise BotkitError(f"{name} is a {before['method']} run, not {config.method}")
    elif run.path.exists() and any(run.path.iterdir()):
        raise BotkitError(f"{run.path} holds an unfinished run: pass --resume to continue it, or choose another --out")
    run.path.mkdir(parents=True, exist_ok=True)
    registry.start_run(name, config.method, run.path)
    write_json(recorded, {"name": name, "method": config.method, "config": config.to_dict(), "data": data,
                          "pid": os.getpid(), "resumed": resume})
    return run


def record_failure(run: RunDirectory, exc: BaseException) -> None:
    """Mark a run that raised as failed (a killed one shows as interrupted: its process is gone)."""
    if not is_main_process():
        return
    registry = ModelRegistry.open(run.settings)
    if (registry.run(run.name) or {}).get("status") == "running":
        registry.end_run(run.name, "failed", f"{type(exc).__name__}: {exc}"[:500])


def fit(trainer, config, checkpoint: str | None) -> None:
    """trainer.train(), from `checkpoint` when resuming; GPU out-of-memory becomes advice."""
    import torch

    try:
        trainer.train(resume_from_checkpoint=checkpoint)
    except torch.OutOfMemoryError:
        length = getattr(config, "max_length", None) or getattr(config, "max_completion_length", None)
        raise BotkitError(
            f"out of GPU memory: lower per_device_train_batch_size (now {config.per_device_train_batch_size}) and "
            f"raise gradient_accumulation_steps, lower the length limit (now {length}) or lora_r "
            f"(now {config.lora_r}), "
            "or turn activation_checkpointing on"
        ) from None
