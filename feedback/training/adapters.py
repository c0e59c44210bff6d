"""The model a run trains: the policy's base with its parent's adapter when it continues a version,
and the PEFT config of a new adapter (LoRA or prompt tuning) from the run's fields."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry, check_adapter_base


class Policy(NamedTuple):
    base: str  # the spec the version records ('default', a hub id, an absolute directory)
    model: object
    tokenizer: object
    parent: str | None  # the version whose adapter `model` carries (trainable), if any


def peft_config(config, task_type: str):
    """LoRA (the default) or prompt tuning, for a causal LM ('CAUSAL_LM') or a reward head ('SEQ_CLS')."""
    from peft import LoraConfig, PromptTuningConfig, PromptTuningInit

    if config.peft == "prompt-tuning":
        return PromptTuningConfig(task_type=task_type, num_virtual_tokens=config.num_virtual_tokens,
                                  prompt_tuning_init=PromptTuningInit.RANDOM)
    return LoraConfig(task_type=task_type, r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout, target_modules=config.lora_target_modules)


def new_adapter(config, policy: Policy):
    """The PEFT config for the trainer: none when the policy already carries its parent's adapter."""
    return None if policy.parent else peft_config(config, "CAUSAL_LM")


def load_policy(config, settings) -> Policy:
    """The base model and tokenizer for policy training (sft, dpo, rl); `--model VERSION` or
    `--parent VERSION` starts from that version's adapter."""
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
    if base_spec.lower() != "default" and Path(base_spec).expanduser().exists():
        base_spec = str(Path(base_spec).expanduser().resolve())
    return Policy(base_spec, model, tokenizer, parent)
