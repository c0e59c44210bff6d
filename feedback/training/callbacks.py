"""The callback every run carries: progress.json (step, total, loss history) for the app's Train page."""

from __future__ import annotations

import json
import time
from pathlib import Path

from transformers import TrainerCallback


def write_json(path: Path, data) -> None:
    """Write `data` so readers (the app) never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)


class ProgressCallback(TrainerCallback):
    """Writes step, total steps, epoch and the log history (the loss curve) at the start and at every log."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _write(self, state) -> None:
        if state.is_world_process_zero:
            write_json(self.path, {"step": state.global_step, "max_steps": state.max_steps, "epoch": state.epoch,
                                   "history": state.log_history, "updated": time.time()})

    def on_train_begin(self, args, state, control, **kwargs):
        self._write(state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        self._write(state)
