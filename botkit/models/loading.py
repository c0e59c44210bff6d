"""Load any model botkit can talk to: the embedded default, a GGUF file, a local directory,
a Hugging Face hub id, optionally with a PEFT adapter on top, on the engine the settings name
(`engine: auto` is llama.cpp on CPU for GGUF models when it is installed, else transformers;
CUDA + bf16 when a GPU is present)."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from botkit.errors import BotkitError
from botkit.models.default import (
    DEFAULT_ALIASES,
    DEFAULT_MODEL,
    convert_gguf,
    default_gguf,
    default_model_dir,
    source_gguf,
)
from botkit.models.transformers_engine import TransformersEngine
from botkit.plugins import get_model_sources

log = logging.getLogger("botkit")

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
        f"unknown model '{spec}': use 'default', a trained version (botkit models list), "
        "a Hugging Face hub id (org/name), a model directory or a .gguf file"
    )


def is_hub_id(spec: str) -> bool:
    return bool(_HUB_ID.match(spec)) and not Path(spec).expanduser().exists()


def load_engine(spec: str = "default", cache_dir: Path | None = None, adapter: str | None = None,
                device: str | None = None, *, engine: str | None = None, settings=None):
    """Load `spec` (plus an optional adapter) on `engine` (default: the settings' engine) and return
    a ready `botkit.models.engine.Engine`."""
    from botkit.config import load_settings

    settings = settings or load_settings()
    settings = settings.model_copy(update={"device": device or settings.device,
                                           "cache_dir": cache_dir or settings.cache_dir})
    name = engine or settings.engine
    if name == "auto":
        return _auto(spec, settings, adapter)
    loaders = engine_loaders()
    if name not in loaders:
        raise BotkitError(f"unknown engine '{name}' (engines: auto, {', '.join(sorted(loaders))})")
    return loaders[name](spec, settings, adapter=adapter)


def engine_loaders(pm=None) -> dict[str, Callable]:
    """Every engine registered through the `register_engines` hook, the built-in ones included
    (always, whatever BOTKIT_PLUGINS allows: they are botkit's own)."""
    from botkit.models import builtin_engines
    from botkit.plugins import plugin_manager

    pm = pm or plugin_manager()
    if not pm.is_registered(builtin_engines):
        pm.register(builtin_engines, "builtin_engines")
    loaders: dict[str, Callable] = {}

    def register(name: str, load: Callable) -> None:
        if name in loaders or name == "auto":
            raise BotkitError(f"two plugins register an engine named '{name}': disable one with BOTKIT_PLUGINS")
        loaders[name] = load

    pm.hook.register_engines(register=register)
    return loaders


_said: set[str] = set()


def fallback_notice() -> str | None:
    """Why `engine: auto` runs the default model on transformers rather than llama.cpp, or None."""
    if llamacpp_installed():
        return None
    return ("llama-cpp-python is not installed, so models run on transformers (about 5x slower on CPU): "
            "`make setup` or `pip install 'botkit[llamacpp]'` installs it")


def llamacpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def _auto(spec: str, settings, adapter: str | None):
    """llama.cpp for a GGUF model on CPU when it is installed; transformers otherwise."""
    from botkit.models.builtin_engines import load_llamacpp

    on_gpu = settings.device == "cuda" or (settings.device == "auto" and _cuda())
    if not on_gpu:
        try:
            gguf, _ = resolve_gguf(spec, settings.cache_dir)
        except BotkitError:
            gguf = None
        if gguf is not None:
            if not llamacpp_installed():
                _say_once(fallback_notice())
            else:
                try:
                    return load_llamacpp(spec, settings, adapter=adapter)
                except BotkitError as exc:  # e.g. an adapter llama.cpp cannot apply
                    _say_once(f"{exc}; running {spec} on transformers instead")
    return load_transformers(spec, settings, adapter=adapter)


def _say_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        log.warning(message)


def _cuda() -> bool:
    if not Path("/proc/driver/nvidia/version").exists() and "torch" not in sys.modules:
        return False  # no NVIDIA driver: skip importing torch just to hear so
    import torch

    return torch.cuda.is_available()


def resolve_gguf(spec: str, cache_dir: Path) -> tuple[Path | None, str | None]:
    """(GGUF file, adapter dir or None) for `spec`, without converting anything; the GGUF is None
    for models that only exist as transformers weights (hub ids, plain model directories)."""
    if spec.lower() in DEFAULT_ALIASES:
        return default_gguf(), None
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix.lower() == ".gguf":
        return path.resolve(), None
    if path.is_dir() and (path / "adapter_config.json").exists():
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if not base:
            raise BotkitError(f"adapter {spec} does not name its base model (base_model_name_or_path)")
        gguf, _ = resolve_gguf(base, cache_dir)
        return gguf, str(path)
    if path.is_dir():
        return source_gguf(str(path)), None
    base, adapter = resolve_model(spec, cache_dir)  # a registered version, or a hub id
    return (source_gguf(base) if Path(base).is_dir() else None), adapter


def load_transformers(spec: str, settings, adapter: str | None = None) -> TransformersEngine:
    """Load `spec` (plus an optional adapter) into a ready TransformersEngine."""
    from botkit.models.engine_settings import cpu_threads, passive_omp_threads

    passive_omp_threads()  # before torch loads, if it has not yet
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cache_dir = settings.cache_dir
    base, spec_adapter = resolve_model(spec, cache_dir)
    adapter = adapter or spec_adapter
    dev, dtype = pick_device(settings.device)
    if dev == "cpu" and settings.engines.threads:  # the thread policy: leave cores to other processes
        torch.set_num_threads(cpu_threads(settings.engines.threads))
    # Loading never touches the network (nothing may wait on an unreachable hub): a hub model is
    # fetched once, explicitly, by `botkit models pull`.
    try:
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype, local_files_only=True)
    except OSError as exc:
        if is_hub_id(base):
            raise BotkitError(f"model '{spec}' is not downloaded: "
                              f"run `botkit models pull {spec}` while online") from exc
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
