"""botkit's own engines, registered through the `register_engines` hook like a plugin's: each
loader turns a model spec (+ adapter) and the settings into a ready engine."""

from __future__ import annotations

from pathlib import Path

from botkit.errors import BotkitError
from botkit.hookspecs import hookimpl


@hookimpl
def register_engines(register):
    from botkit.models.loading import load_transformers

    register("transformers", load_transformers)
    register("llamacpp", load_llamacpp)
    register("openai", load_openai)
    register("vllm", load_vllm)


def load_llamacpp(spec: str, settings, adapter: str | None = None):
    """The GGUF behind `spec` on llama.cpp, with the version's LoRA adapter converted to GGUF."""
    from botkit.models.default import default_gguf, requantized_gguf
    from botkit.models.engine_settings import cpu_threads
    from botkit.models.gguf_lora import gguf_adapter
    from botkit.models.llamacpp import LlamaCppEngine
    from botkit.models.loading import llamacpp_installed, resolve_gguf

    if not llamacpp_installed():
        raise BotkitError("engine llamacpp needs llama-cpp-python: `make setup` or `pip install 'botkit[llamacpp]'`")
    gguf, spec_adapter = resolve_gguf(spec, settings.cache_dir)
    if gguf is None:
        raise BotkitError(f"engine llamacpp runs GGUF files and '{spec}' has none: name a .gguf file, "
                          "or use engine transformers")
    adapter = adapter or spec_adapter
    lora = gguf_adapter(Path(adapter), gguf) if adapter else None
    config = settings.engines
    name = _name(gguf, adapter)
    if gguf == default_gguf() and config.llamacpp.default_quantization != "Q4_1":
        gguf = requantized_gguf(gguf, settings.cache_dir, config.llamacpp.default_quantization)
    return LlamaCppEngine(gguf, name, threads=cpu_threads(config.threads),
                          context=config.llamacpp.context, max_batch=config.llamacpp.max_batch, lora=lora,
                          parked=config.llamacpp.parked_chats, unified=config.llamacpp.kv_unified)


def _name(gguf: Path, adapter: str | None) -> str:
    """The name answers carry: the same as on transformers (model name, +adapter)."""
    from botkit.models.default import DEFAULT_MODEL, default_gguf
    from botkit.models.loading import model_label

    base = DEFAULT_MODEL if gguf == default_gguf() else model_label(str(gguf.with_suffix("")))
    return f"{base}+{Path(adapter).name}" if adapter else base


def load_openai(spec: str, settings, adapter: str | None = None):
    """A model on an OpenAI-compatible server: `engines.openai.model`, else `spec` as the server's name."""
    from botkit.models.openai_compat import OpenAIEngine

    if adapter:
        raise BotkitError("engine openai serves the server's models: load the adapter on the server, not here")
    config = settings.engines.openai
    model = config.model or spec
    return OpenAIEngine(config.base_url, model, api_key_env=config.api_key_env,
                        context_window=config.context_window, timeout=config.timeout,
                        max_concurrency=config.max_concurrency)


def load_vllm(spec: str, settings, adapter: str | None = None):
    """`spec` on vLLM (GPU), the version's adapter as a LoRA request."""
    from botkit.models.loading import resolve_model
    from botkit.models.vllm_engine import VLLMEngine

    base, spec_adapter = resolve_model(spec, settings.cache_dir)
    return VLLMEngine(base, adapter or spec_adapter, settings.engines.vllm)
