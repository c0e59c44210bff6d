"""One config dataclass per training method (sft, rm, dpo, rl), loadable from YAML and overridable by
flags, with `cpu` and `gpu` profiles. Kept free of torch imports so the CLI and app read them cheaply.

Precedence: field defaults < the profile < the YAML file < command-line flags.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from botkit.config import read_settings_yaml
from botkit.errors import BotkitError

PEFT_METHODS = ("lora", "prompt-tuning")


@dataclass
class TrainConfig:
    """Fields every method shares. Method configs below add their own."""

    model: str = field(default="default", metadata={"help": "Base model: 'default' (SmolLM2-135M), a hub id, a directory or a registered version's base."})
    parent: str | None = field(default=None, metadata={"help": "A registered version whose adapter this run starts from (same base)."})
    peft: str = field(default="lora", metadata={"help": "Parameter-efficient method: 'lora' or 'prompt-tuning' (soft prompts)."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling (alpha)."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA branch."})
    lora_target_modules: list[str] | None = field(default=None, metadata={"help": "Modules LoRA wraps; PEFT's per-architecture default when unset."})
    num_virtual_tokens: int = field(default=16, metadata={"help": "Soft-prompt length for prompt tuning."})
    learning_rate: float = field(default=2e-4, metadata={"help": "Peak learning rate (AdamW, linear decay)."})
    num_train_epochs: float = field(default=1.0, metadata={"help": "Passes over the training split."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many optimizer steps (-1: run the epochs)."})
    per_device_train_batch_size: int = field(default=4, metadata={"help": "Examples (pairs for rm/dpo) per step and device."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Steps whose gradients add up before an update."})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "Recompute activations in the backward pass: saves memory, costs ~20-30% time."})
    bf16: bool = field(default=False, metadata={"help": "bfloat16 mixed precision (GPU)."})
    max_length: int = field(default=256, metadata={"help": "Token limit of prompt + response."})
    max_prompt_length: int = field(default=128, metadata={"help": "Prompts longer than this many tokens are cut from the left, so responses are never cut."})
    test_fraction: float = field(default=0.2, metadata={"help": "Share of prompts held out for evaluation (a prompt is never on both sides)."})
    seed: int = field(default=0, metadata={"help": "Seed of the held-out split and of training."})
    logging_steps: int = field(default=1, metadata={"help": "Log (loss curve, progress file) every this many steps."})
    save_steps: int = field(default=25, metadata={"help": "Checkpoint every this many steps (what --resume continues from)."})
    profile: str = field(default="cpu", metadata={"help": "'cpu' (small batches, fast settings) or 'gpu' (bf16, larger batches)."})

    method: ClassVar[str] = ""
    min_examples: ClassVar[int] = 4
    # Values a profile sets; the YAML file and flags still override them.
    PROFILES: ClassVar[dict[str, dict]] = {
        "cpu": {"bf16": False, "gradient_checkpointing": False, "max_length": 256, "max_prompt_length": 128,
                "per_device_train_batch_size": 4, "logging_steps": 1},
        "gpu": {"bf16": True, "gradient_checkpointing": True, "max_length": 1024, "max_prompt_length": 512,
                "per_device_train_batch_size": 16, "logging_steps": 10},
    }

    def check(self) -> None:
        if self.peft not in PEFT_METHODS:
            raise BotkitError(f"peft must be one of {', '.join(PEFT_METHODS)}, not '{self.peft}'")
        if not 0 < self.test_fraction < 1:
            raise BotkitError("test_fraction must be between 0 and 1 (a held-out split is always kept)")
        if self.max_prompt_length >= self.max_length:
            raise BotkitError(f"max_prompt_length ({self.max_prompt_length}) must be below max_length ({self.max_length})")
        if self.per_device_train_batch_size < 1 or self.gradient_accumulation_steps < 1:
            raise BotkitError("per_device_train_batch_size and gradient_accumulation_steps must be at least 1")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class SFTRunConfig(TrainConfig):
    """Supervised fine-tuning on the brand's own copy (TRL SFTTrainer)."""

    method: ClassVar[str] = "sft"
    completion_only_loss: bool | None = field(default=None, metadata={"help": "Loss on completions only (prompt/completion data); TRL decides when unset."})


@dataclass
class RewardRunConfig(TrainConfig):
    """A reward model from pairwise preferences (TRL RewardTrainer)."""

    method: ClassVar[str] = "rm"
    min_examples: ClassVar[int] = 8
    PROFILES: ClassVar[dict[str, dict]] = {
        "cpu": {**TrainConfig.PROFILES["cpu"], "per_device_train_batch_size": 16},
        "gpu": {**TrainConfig.PROFILES["gpu"], "per_device_train_batch_size": 32, "max_length": 512, "max_prompt_length": 256},
    }
    model: str = field(default="minilm", metadata={"help": "Backbone: 'minilm' (the packaged all-MiniLM-L6-v2, fast on CPU), 'policy' (the chat model's base) or any model spec."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Peak learning rate (AdamW, linear decay); LoRA on a small encoder takes a high one."})
    num_train_epochs: float = field(default=2.0, metadata={"help": "Passes over the training split."})
    center_rewards_coefficient: float | None = field(default=None, metadata={"help": "Pull mean rewards towards 0 (TRL RewardConfig)."})


@dataclass
class DPORunConfig(TrainConfig):
    """Direct preference optimisation with LoRA (TRL DPOTrainer); the frozen base is the reference."""

    method: ClassVar[str] = "dpo"
    min_examples: ClassVar[int] = 8
    PROFILES: ClassVar[dict[str, dict]] = {
        "cpu": {**TrainConfig.PROFILES["cpu"], "precompute_ref_log_probs": True},
        "gpu": {**TrainConfig.PROFILES["gpu"], "precompute_ref_log_probs": False},
    }
    learning_rate: float = field(default=5e-5, metadata={"help": "Peak learning rate (AdamW, linear decay)."})
    beta: float = field(default=0.1, metadata={"help": "Strength of the pull towards the reference (base) model."})
    loss_type: str = field(default="sigmoid", metadata={"help": "TRL DPO loss: sigmoid (DPO), ipo, hinge, robust, ..."})
    precompute_ref_log_probs: bool = field(default=True, metadata={"help": "Score the reference once before training instead of every step (faster on CPU)."})


@dataclass
class RLRunConfig(TrainConfig):
    """Online RL against a trained reward model (TRL GRPOTrainer) with a KL penalty to the base."""

    method: ClassVar[str] = "rl"
    min_examples: ClassVar[int] = 4
    PROFILES: ClassVar[dict[str, dict]] = {
        "cpu": {**TrainConfig.PROFILES["cpu"], "max_completion_length": 48, "num_generations": 4},
        "gpu": {**TrainConfig.PROFILES["gpu"], "max_completion_length": 256, "num_generations": 8},
    }
    reward_model: str | None = field(default=None, metadata={"help": "The registered reward version to optimise; the newest one when unset."})
    learning_rate: float = field(default=5e-5, metadata={"help": "Peak learning rate (AdamW, linear decay)."})
    beta: float = field(default=0.04, metadata={"help": "KL penalty to the base model (0 disables it; TRL's default is 0)."})
    num_generations: int = field(default=4, metadata={"help": "Completions sampled per prompt (the group GRPO compares)."})
    max_completion_length: int = field(default=48, metadata={"help": "Tokens generated per completion."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature of the generations."})

    def check(self) -> None:
        super().check()
        batch = self.per_device_train_batch_size * self.gradient_accumulation_steps
        if self.num_generations < 2 or batch % self.num_generations:
            raise BotkitError(f"num_generations ({self.num_generations}) must be at least 2 and divide "
                              f"per_device_train_batch_size x gradient_accumulation_steps ({batch})")


CONFIGS: dict[str, type[TrainConfig]] = {c.method: c for c in (SFTRunConfig, RewardRunConfig, DPORunConfig, RLRunConfig)}


def load_config(cls: type[TrainConfig], path: Path | None = None, profile: str | None = None, **overrides) -> TrainConfig:
    """Build `cls` from its defaults, a profile, a YAML file and flag overrides (None means not given)."""
    data = _read_yaml(path) if path else {}
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise BotkitError(f"{path}: unknown {cls.method} setting(s) {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    profile = profile or data.get("profile") or "cpu"
    if profile not in cls.PROFILES:
        raise BotkitError(f"profile must be one of {', '.join(cls.PROFILES)}, not '{profile}'")
    values = {**cls.PROFILES[profile], **data, **{k: v for k, v in overrides.items() if v is not None}, "profile": profile}
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    config = cls(**{k: _typed(k, v, types[k], path) for k, v in values.items()})
    config.check()
    return config


def _typed(name: str, value, annotation: str, path):
    """`value` as the field's scalar type: YAML reads `1e-4` as a string, and a typo must not reach TRL."""
    if value is None or "list" in annotation or annotation.startswith("str"):
        return value
    kind = {"float": float, "int": int, "bool": bool}[annotation.split(" |")[0]]
    if kind is bool and not isinstance(value, bool):
        raise BotkitError(f"{path or 'settings'}: {name} must be true or false, not {value!r}")
    try:
        return kind(value) if kind is not bool else value
    except (TypeError, ValueError):
        raise BotkitError(f"{path or 'settings'}: {name} must be a number ({kind.__name__}), not {value!r}") from None


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        raise BotkitError(f"{path}: no such file")
    return read_settings_yaml(path, "learning_rate: 0.0001")
