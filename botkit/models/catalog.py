"""What `botkit models` reports and does: list, pull and choose models (the chat and embedding
models, hub downloads, and the names plugins add, such as trained versions)."""

from __future__ import annotations

from pathlib import Path

from botkit.config import load_settings, save_setting
from botkit.embeddings import EMBEDDING_MODEL, Embedder, embedding_model_path
from botkit.errors import BotkitError
from botkit.models.default import DEFAULT_ALIASES, DEFAULT_MODEL, default_gguf, default_model_dir, is_default_converted
from botkit.models.loading import is_hub_id, resolve_model
from botkit.plugins import get_model_sources


def hub_cached() -> list[str]:
    try:
        from huggingface_hub import scan_cache_dir  # deferred, as below: slow to import, rarely needed

        return sorted(r.repo_id for r in scan_cache_dir().repos if r.repo_type == "model")
    except Exception:  # no cache dir yet, or an unreadable one: nothing to list
        return []


def list_models() -> list[dict]:
    settings = load_settings()
    active = settings.model
    rows = []
    try:
        gguf = str(default_gguf())
        status = "converted" if is_default_converted(settings.cache_dir) else "embedded (converts on first use)"
    except BotkitError as exc:
        gguf, status = "", f"missing: {exc}"
    rows.append({"name": DEFAULT_MODEL, "kind": "chat", "status": status, "location": gguf,
                 "active": active.lower() in DEFAULT_ALIASES})
    rows.append({"name": EMBEDDING_MODEL, "kind": "embeddings", "status": "embedded",
                 "location": embedding_model_path(), "active": True})
    for repo in hub_cached():
        rows.append({"name": repo, "kind": "hub", "status": "downloaded", "location": "huggingface cache",
                     "active": repo == active})
    for source in get_model_sources():  # e.g. trained versions (botkit train ...)
        rows.extend(source.list_models(active))
    if active.lower() not in DEFAULT_ALIASES and not any(r["name"] == active for r in rows):
        rows.append({"name": active, "kind": "chat", "status": "configured", "location": active, "active": True})
    if settings.adapter:
        rows.append({"name": Path(settings.adapter).name, "kind": "adapter", "status": "configured",
                     "location": settings.adapter, "active": True})
    return rows


def pull(model: str = "default") -> list[str]:
    """Make `model` ready offline; returns what was done, a line each."""
    settings = load_settings()
    if model.lower() in DEFAULT_ALIASES:
        path = default_model_dir(settings.cache_dir)
        Embedder()
        return [f"{DEFAULT_MODEL} ready in {path}", f"{EMBEDDING_MODEL} ready in {embedding_model_path()}"]
    if not is_hub_id(model):
        base, _ = resolve_model(model, settings.cache_dir)
        return [f"{model} is local ({base}); nothing to download"]
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(model)
    except Exception as exc:  # network and hub errors come in many types
        raise BotkitError(f"cannot download {model}: {str(exc).splitlines()[0]}") from exc
    return [f"{model} downloaded to {path}"]


def use(model: str, adapter: str | None = None) -> str:
    """Save `model` (and `adapter`) as the active chat model; returns a message for the user."""
    settings = load_settings()
    if not is_hub_id(model) or model.lower() in DEFAULT_ALIASES:
        resolve_model(model, settings.cache_dir)  # fails early on a bad path
        model = str(Path(model).expanduser().resolve()) if Path(model).expanduser().exists() else model
    note = ""
    if is_hub_id(model) and model not in hub_cached():
        note = f" It is not downloaded yet: run `botkit models pull {model}` while online."
    if adapter:
        if not (Path(adapter) / "adapter_config.json").exists():
            raise BotkitError(f"{adapter} is not a PEFT adapter directory (no adapter_config.json)")
        adapter = str(Path(adapter).resolve())
    save_setting("model", model)
    path = save_setting("adapter", adapter)
    return f"Now using {model}{' + ' + adapter if adapter else ''} (saved in {path}).{note}"
