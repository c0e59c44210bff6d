"""The model copy tasks write with: the `copy_model` setting, else the registered `brand-voice`
version (an adapter trained on the brand's copy archive) when it sits on the chat model's base, else
the chat model. Chat answers never change because of it: only copy tasks ask for this engine."""

from __future__ import annotations

import json
from pathlib import Path

from botkit.errors import BotkitError
from botkit.models.default import DEFAULT_ALIASES
from botkit.models.loading import load_engine, resolve_model

BRAND_VOICE = "brand-voice"  # the version name `make brand-voice` registers


def copy_model_spec(settings) -> str | None:
    """The model spec copy tasks use, or None for the chat model itself."""
    choice = settings.copy_model
    if choice:
        return None if choice == "chat" else choice
    try:
        _, adapter = resolve_model(BRAND_VOICE, settings.cache_dir)
    except BotkitError:  # no such version in this home (or its adapter is unusable)
        return None
    return BRAND_VOICE if adapter and _same_base(_adapter_base(adapter), _chat_base(settings)) else None


def copy_engine(bot):
    """`bot`'s engine for copy tasks (see the module docstring), loaded once per bot."""
    engine = getattr(bot, "_copy_engine", None)
    if engine is None:
        spec = copy_model_spec(bot.settings)
        s = bot.settings
        engine = bot.engine if spec is None else load_engine(spec, s.cache_dir, device=s.device, settings=s)
        bot._copy_engine = engine
    return engine


# Measured on the sample brand's held-out and unseen briefs (README, Brand voice): of the lines the
# default model showed after every check, with or without the brand-voice adapter, a blind reader found
# 1 of 43 usable after a light edit; the checks catch broken, invented and off-brand lines, not lines
# that make no sense. So its lines are shown apart, as ideas (`best_of_n`), with this beside them.
SMALL_MODEL_CAUTION = ("the ideas are written by the default 135M model: they pass the automatic checks, but a "
                       "reader found nearly none of its lines usable; edit before you send, or write copy with a "
                       "stronger model (setting copy_model)")


def copy_caution(bot) -> str:
    """What the copy plugins say beside their lines when the copy model is the default model (with or
    without the brand-voice adapter); "" for any other model."""
    spec = copy_model_spec(bot.settings)
    base = _chat_base(bot.settings) if spec in (None, BRAND_VOICE) else spec
    return SMALL_MODEL_CAUTION if base.lower() in DEFAULT_ALIASES else ""


def _adapter_base(adapter: str) -> str:
    return json.loads((Path(adapter) / "adapter_config.json").read_text()).get("base_model_name_or_path") or ""


def _chat_base(settings) -> str:
    """The base spec under the chat model: a version's (or adapter directory's) base, else the model itself."""
    model = settings.model
    if model.lower() in DEFAULT_ALIASES or Path(model).expanduser().is_file():  # a .gguf: nothing on top
        return model
    try:
        _, adapter = resolve_model(model, settings.cache_dir)
    except BotkitError:
        return model
    return _adapter_base(adapter) if adapter else model


def _same_base(a: str, b: str) -> bool:
    if a.lower() in DEFAULT_ALIASES or b.lower() in DEFAULT_ALIASES:
        return a.lower() in DEFAULT_ALIASES and b.lower() in DEFAULT_ALIASES
    return a == b or Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
