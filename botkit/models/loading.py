"""Load any model botkit can talk to: the embedded default, a GGUF file, a local directory,
a Hugging Face hub id, optionally with a PEFT adapter on top. CUDA + bf16 when a GPU is present."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from botkit.errors import BotkitError
from botkit.models.default import DEFAULT_ALIASES, DEFAULT_MODEL, convert_gguf, default_model_dir
from botkit.models.transformers_engine import TransformersEngine
from botkit.plugins import get_model_sources

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def pick_device(device: str = "auto"):
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise BotkitError("device 'cuda' was asked for but no CUDA GPU is visible; use device: auto")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        return "cuda", (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    return "cpu", torch.float32


def resolve_model(spec: str, cache_dir: Path) -> tuple[str, str | None]:
    """Turn a model spec into (loadable base, adapter dir or None), converting GGUF files.

    Raises BotkitError for a spec that is neither a local model nor a hub id.
    """
    if spec.lower() in DEFAULT_ALIASES:
        return str(default_model_dir(cache_dir)), None
    path = Path(spec).expanduser()
    if path.exists():
        if path.is_file():
            if path.suffix.lower() != ".gguf":
                raise BotkitError(f"{spec} is a file but not a .gguf model")
            return str(convert_gguf(path.resolve(), cache_dir)), None
        if (path / "adapter_config.json").exists():
            base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
            if not base:
                raise BotkitError(f"adapter {spec} does not name its base model (base_model_name_or_path)")
            base_dir, _ = resolve_model(base, cache_dir)
            return base_dir, str(path)
        if (path / "config.json").exists():
            return str(path), None
        raise BotkitError(f"{spec} is a directory without config.json or adapter_config.json")
    for source in get_model_sources():  # plugins' names, e.g. a trained version's: its base + adapter
        if found := source.resolve(spec, cache_dir):
            return found
    if _HUB_ID.match(spec) and not spec.startswith((".", "/", "~")):
        return spec, None
    raise BotkitError(
        f"unknown model '{spec}': use 'default', a trained version (botkit models list), a Hugging Face hub id (org/name), a model directory or a .gguf file"
    )


def is_hub_id(spec: str) -> bool:
    return bool(_HUB_ID.match(spec)) and not Path(spec).expanduser().exists()


def load_engine(spec: str = "default", cache_dir: Path | None = None, adapter: str | None = None,
                device: str = "auto") -> TransformersEngine:
    """Load `spec` (plus an optional adapter) into a ready TransformersEngine."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from botkit.config import Settings

    cache_dir = cache_dir or Settings.model_fields["cache_dir"].default_factory()
    base, spec_adapter = resolve_model(spec, cache_dir)
    adapter = adapter or spec_adapter
    dev, dtype = pick_device(device)
    # Loading never touches the network (nothing may wait on an unreachable hub): a hub model is
    # fetched once, explicitly, by `botkit models pull`.
    try:
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype, local_files_only=True)
    except OSError as exc:
        if is_hub_id(base):
            raise BotkitError(f"model '{spec}' is not downloaded: run `botkit models pull {spec}` while online") from exc
        raise BotkitError(f"cannot load model '{spec}': {str(exc).splitlines()[0]}") from exc
    if adapter:
        model = _with_adapter(model, adapter, base)
    model.to(dev).eval()
    name = model_label(base)
    if adapter:
        name = f"{name}+{Path(adapter).name}"
    return TransformersEngine(model, tokenizer, name=name)


def model_label(base: str) -> str:
    """A short, readable name: the default model's name, a hub id, or a directory's name."""
    if Path(base).name.startswith(DEFAULT_MODEL + "-"):
        return DEFAULT_MODEL
    return base if is_hub_id(base) else Path(base).name


def _with_adapter(model, adapter: str, base: str):
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, adapter)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise BotkitError(
            f"adapter {adapter} does not fit base model {base}: {str(exc).splitlines()[0]}"
        ) from exc


os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
