"""One training run's life, shared by every method: its directory under BOTKIT_HOME/models/NAME,
checkpoints and --resume, TRL arguments from our config, PEFT configs, the progress file the app
watches, clear out-of-memory errors, and registration once the adapter is complete."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry, check_adapter_base, check_name, models_dir
from botkit.feedback.train_config import TrainConfig


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)  # readers (the app) never see half a file


class Run:
    """A training run: `with Run(...) as run:` marks it failed on an exception; `run.finish` registers it."""

    def __init__(self, name: str, config: TrainConfig, data: dict, *, resume: bool = False, settings=None,
                 callbacks=()):
        from botkit.config import load_settings

        self.settings = settings or load_settings()
        self.name, self.config, self.data, self.resume = check_name(name), config, data, resume
        self.extra_callbacks = list(callbacks)
        self.dir = models_dir(self.settings) / name
        self.checkpoints = self.dir / "checkpoints"
        self.registry = ModelRegistry.open(self.settings)
        self.started = time.monotonic()
        # Under `accelerate launch` every process runs this; only the first one keeps the books.
        self.main = int(os.environ.get("RANK", "0")) == 0
        if not self.main:
            return
        if self.registry.get(name):
            raise BotkitError(f"{name} is already a registered version: choose another --out")
        recorded = self.dir / "run.json"
        if resume:
            if self.last_checkpoint() is None:
                raise BotkitError(f"no checkpoint of {name} to resume (runs save one every {config.save_steps} steps): "
                                  "start it again without --resume")
            before = json.loads(recorded.read_text())
            if before["data"]["sha256"] != data["sha256"]:
                raise BotkitError(f"{name} was started on other data ({before['data']['train']} training examples, "
                                  f"sha256 {before['data']['sha256'][:12]}): resume it with the same data")
            if before["method"] != config.method:
                raise BotkitError(f"{name} is a {before['method']} run, not {config.method}")
        elif self.dir.exists() and any(self.dir.iterdir()):
            raise BotkitError(f"{self.dir} holds an unfinished run: pass --resume to continue it, or choose another --out")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.registry.start_run(name, config.method, self.dir)
        _write_json(recorded, {"name": name, "method": config.method, "config": config.as_dict(), "data": data,
                               "pid": os.getpid(), "resumed": resume})

    def __enter__(self) -> Run:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if exc is not None and self.main and (self.registry.run(self.name) or {}).get("status") == "running":
            self.registry.end_run(self.name, "failed", f"{kind.__name__}: {exc}"[:500])

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

    def arguments(self, trl_class, **method_fields):
        """TRL's config for this run: our shared fields, the method's fields, CPU/GPU specifics."""
        import torch

        c = self.config
        cuda = torch.cuda.is_available()
        return trl_class(
            output_dir=str(self.checkpoints), learning_rate=c.learning_rate, num_train_epochs=c.num_train_epochs,
            max_steps=c.max_steps, per_device_train_batch_size=c.per_device_train_batch_size,
            per_device_eval_batch_size=c.per_device_train_batch_size,
            gradient_accumulation_steps=c.gradient_accumulation_steps,
            gradient_checkpointing=c.gradient_checkpointing, bf16=c.bf16 and cuda, use_cpu=not cuda,
            logging_steps=c.logging_steps, save_strategy="steps", save_steps=c.save_steps, save_total_limit=2,
            eval_strategy="no", report_to="none", seed=c.seed, dataloader_pin_memory=cuda,
            **method_fields,
        )

    def callbacks(self) -> list:
        return [_progress_callback(self.dir / "progress.json"), *self.extra_callbacks]

    def save_heldout(self, rows: list[dict]) -> None:
        """The held-out rows beside the adapter, so later evaluations use the same split."""
        if not self.main:
            return
        (self.dir / "heldout.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))

    def fit(self, trainer) -> None:
        """trainer.train(), from the last checkpoint with --resume; GPU out-of-memory becomes advice."""
        import torch

        try:
            trainer.train(resume_from_checkpoint=self.last_checkpoint() if self.resume else None)
        except torch.OutOfMemoryError:
            c = self.config
            raise BotkitError(
                f"out of GPU memory: lower per_device_train_batch_size (now {c.per_device_train_batch_size}) and raise "
                f"gradient_accumulation_steps, lower max_length (now {c.max_length}) or lora_r (now {c.lora_r}), "
                "or turn gradient_checkpointing on"
            ) from None

    def finish(self, trainer, *, kind: str, base: str, metrics: dict, parent: str | None) -> dict:
        """Save the adapter, curves and metrics, then register the version (the commit point).
        Returns the version (an empty dict in the other processes of a multi-GPU run)."""
        trainer.save_model(str(self.dir))  # gathers sharded (FSDP/ZeRO) weights; writes on the main process
        if not self.main:
            return {}
        history = trainer.state.log_history
        (self.dir / "training_args.bin").unlink(missing_ok=True)
        adapter_config = self.dir / "adapter_config.json"
        if not adapter_config.exists():
            raise BotkitError(f"training {self.name} saved no PEFT adapter in {self.dir}")
        # Name the base by its spec ('default', a hub id, a path), not this machine's cache path.
        saved = json.loads(adapter_config.read_text())
        saved["base_model_name_or_path"] = base
        _write_json(adapter_config, saved)
        metrics = {**metrics, "train_seconds": round(time.monotonic() - self.started, 1)}
        _write_json(self.dir / "metrics.json", {"metrics": metrics, "history": history})
        version = self.registry.register(self.name, kind=kind, method=self.config.method, base=base,
                                         adapter_path=self.dir, parent=parent, data=self.data,
                                         config=self.config.as_dict(), metrics=metrics)
        self.registry.end_run(self.name, "finished")
        # A registered version cannot be resumed, so its optimizer states are dead weight.
        shutil.rmtree(self.checkpoints, ignore_errors=True)
        return version


def _progress_callback(path: Path):
    from transformers import TrainerCallback

    class RunProgress(TrainerCallback):
        """Writes step, total and the log history to progress.json for the app's Train page."""

        def _write(self, state):
            _write_json(path, {"step": state.global_step, "max_steps": state.max_steps, "epoch": state.epoch,
                               "history": state.log_history, "updated": time.time()})

        def on_train_begin(self, args, state, control, **kwargs):
            self._write(state)

        def on_log(self, args, state, control, logs=None, **kwargs):
            self._write(state)

    return RunProgress()


def peft_config(config: TrainConfig, task_type: str):
    """LoRA (the default) or prompt tuning, for a causal LM ('CAUSAL_LM') or a reward head ('SEQ_CLS')."""
    from peft import LoraConfig, PromptTuningConfig, PromptTuningInit

    if config.peft == "prompt-tuning":
        return PromptTuningConfig(task_type=task_type, num_virtual_tokens=config.num_virtual_tokens,
                                  prompt_tuning_init=PromptTuningInit.RANDOM)
    return LoraConfig(task_type=task_type, r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout, target_modules=config.lora_target_modules)


def load_policy(config: TrainConfig, settings):
    """(base spec, model, tokenizer, parent name) for policy training; the model carries the parent's
    adapter (trainable) when the run starts from a registered version."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from botkit.models.loading import resolve_model

    registry = ModelRegistry.open(settings)
    base_spec, parent = config.model, config.parent
    if registry.get(config.model):  # `--model VERSION` means: start from that version
        parent, base_spec = config.model, registry.version(config.model)["base"]
    if parent:
        row = registry.version(parent)
        if row["kind"] != "policy":
            raise BotkitError(f"{parent} is a reward model; a policy run can only start from a policy version")
        if config.model not in (parent, "default") and base_spec != row["base"]:
            base_dir, _ = resolve_model(base_spec, settings.cache_dir)
            check_adapter_base(Path(row["adapter_path"]), base_dir, settings.cache_dir)
        base_spec = row["base"]
    base_dir, adapter = resolve_model(base_spec, settings.cache_dir)
    if adapter:
        raise BotkitError(f"{base_spec} is an adapter; pass its base as --model and the version as --parent")
    dtype = torch.bfloat16 if config.bf16 and torch.cuda.is_available() else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype, local_files_only=True)
    except OSError as exc:
        raise BotkitError(f"cannot load base model '{base_spec}': {str(exc).splitlines()[0]}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if parent:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, registry.version(parent)["adapter_path"], is_trainable=True)
    if base_spec.lower() not in ("default",) and Path(base_spec).expanduser().exists():
        base_spec = str(Path(base_spec).expanduser().resolve())
    return base_spec, model, tokenizer, parent

