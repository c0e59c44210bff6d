"""The commit point of a run: save the adapter, its curves and metrics, then register the version.
A version row is written only after its files are complete, so a killed run is never listed."""

from __future__ import annotations

import json
import shutil
import time

from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.training.callbacks import write_json
from botkit.feedback.training.runs import RunDirectory, is_main_process


def register_version(trainer, run: RunDirectory, config, *, kind: str, base: str, parent: str | None,
                     metrics: dict, heldout: list[dict]) -> dict:
    """Save `trainer`'s adapter in the run's directory and register it as version `run.name`.
    Returns the version (an empty dict in the other processes of a multi-GPU run)."""
    trainer.save_model(str(run.path))  # gathers sharded (FSDP/ZeRO) weights; writes on the main process
    if not is_main_process():
        return {}
    (run.path / "training_args.bin").unlink(missing_ok=True)
    adapter_config = run.path / "adapter_config.json"
    if not adapter_config.exists():
        raise BotkitError(f"training {run.name} saved no PEFT adapter in {run.path}")
    # Name the base by its spec ('default', a hub id, a path), not this machine's cache path.
    saved = json.loads(adapter_config.read_text())
    saved["base_model_name_or_path"] = base
    write_json(adapter_config, saved)
    # The held-out rows beside the adapter, so later evaluations use the same split.
    (run.path / "heldout.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in heldout))
    metrics = {**metrics, "train_seconds": round(time.monotonic() - run.started, 1)}
    write_json(run.path / "metrics.json", {"metrics": metrics, "history": trainer.state.log_history})
    registry = ModelRegistry.open(run.settings)
    version = registry.register(run.name, kind=kind, method=config.method, base=base, adapter_path=run.path,
                                parent=parent, data=run.data, config=config.to_dict(), metrics=metrics,
                                finishes_run=True)
    # A registered version cannot be resumed, so its optimizer states are dead weight.
    shutil.rmtree(run.checkpoints, ignore_errors=True)
    return version
