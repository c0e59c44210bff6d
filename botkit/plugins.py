"""Loads botkit's plugins through one pluggy manager, and looks up what they register: tasks,
document loaders, scorers, model sources, annotators and the reply log.

Built-ins are modules named below; third-party plugins come from the `botkit.plugins` entry-point
group. BOTKIT_PLUGINS=a,b loads only the task plugins named (built-ins by their module's last part,
others by entry-point name; empty loads none); the essential plugins always load.
BOTKIT_TRACE_PLUGINS=1 traces every hook call to stderr.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import pluggy

from botkit import hookspecs
from botkit.errors import BotkitError

# The features botkit itself is built from, registered through the same hooks as any plugin.
# They are not filtered by BOTKIT_PLUGINS: without them botkit cannot run a model, read a document
# or load a trained version. The feedback loop plugs into the core here; the core never imports it.
ESSENTIAL_PLUGINS = (
    "botkit.models.builtin_engines",
    "botkit.knowledge.loaders",
    "botkit.tasks.scoring",
    "botkit.feedback.registry",
    "botkit.feedback.reply_log",
    "botkit.feedback.annotators",
)
DEFAULT_PLUGINS = (
    "botkit.default_plugins.subject_lines",
    "botkit.default_plugins.ad_copy",
    "botkit.default_plugins.social_rewrite",
    "botkit.default_plugins.seo_meta",
    "botkit.default_plugins.sentiment",
    "botkit.default_plugins.summarize",
    "botkit.default_plugins.support_reply",
)
ENTRY_POINT_GROUP = "botkit.plugins"


def load_plugin_manager() -> pluggy.PluginManager:
    """A fresh manager with every allowed plugin registered (reads the env vars now)."""
    pm = pluggy.PluginManager("botkit")
    pm.add_hookspecs(hookspecs)
    for module in ESSENTIAL_PLUGINS:
        pm.register(importlib.import_module(module), module)
    allowed = os.environ.get("BOTKIT_PLUGINS")
    allowed = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
    for module in DEFAULT_PLUGINS:
        name = module.rsplit(".", 1)[-1]
        if allowed is None or name in allowed:
            pm.register(importlib.import_module(module), name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if (allowed is None or ep.name in allowed) and not pm.has_plugin(ep.name):
            pm.register(_load(ep), ep.name)
    if os.environ.get("BOTKIT_TRACE_PLUGINS", "") not in ("", "0"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return pm


def _load(ep):
    try:
        return ep.load()
    except Exception as exc:  # name the culprit: a traceback from deep inside importlib does not
        raise BotkitError(f"plugin '{ep.name}' ({ep.value}) failed to load: {exc}") from exc


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager, loaded on first use."""
    return load_plugin_manager()


# --- tasks ----------------------------------------------------------------------------------------

def get_tasks(pm: pluggy.PluginManager | None = None) -> dict:
    """Every registered task by name; two tasks with one name is an error, never a silent override."""
    tasks = {}

    def register(task) -> None:
        if task.name in tasks:
            owners = f"{type(tasks[task.name]).__module__} and {type(task).__module__}"
            raise BotkitError(f"two plugins register a task named '{task.name}' ({owners}): "
                              "disable one with BOTKIT_PLUGINS")
        tasks[task.name] = task

    (pm or plugin_manager()).hook.register_tasks(register=register)
    return tasks


def get_task(name: str, pm: pluggy.PluginManager | None = None):
    """The task registered as `name`; an unknown name is an error that lists the known ones."""
    return _named(get_tasks(pm), name, "plugin", "none loaded")


def describe_tasks(pm: pluggy.PluginManager | None = None) -> list[dict]:
    """Every task's name, description, plugin and typed options, by name (`botkit plugins list`)."""
    return [task.describe() for _, task in sorted(get_tasks(pm).items())]


# --- document loaders, scorers, model sources, the reply log ---------------------------------------
# Built-ins register last (trylast) and the first registration of a name wins, so a plugin can
# replace any built-in one.

def get_document_loaders(pm: pluggy.PluginManager | None = None) -> dict[str, Callable[[Path], list[str]]]:
    """File suffix (".pdf") -> the function that reads such a file into text sections."""
    loaders = {}

    def register(load: Callable[[Path], list[str]], *suffixes: str) -> None:
        for suffix in suffixes:
            loaders.setdefault(suffix.lower(), load)

    (pm or plugin_manager()).hook.register_document_loaders(register=register)
    return loaders


def get_scorers(pm: pluggy.PluginManager | None = None) -> dict[str, Callable]:
    """Scorer name -> `make(bot)`, which returns a scorer for that bot, or None where it cannot score."""
    scorers = {}
    (pm or plugin_manager()).hook.register_scorers(register=lambda name, make: scorers.setdefault(name, make))
    return scorers


def get_scorer(bot, name: str | None = None, pm: pluggy.PluginManager | None = None):
    """The scorer `name` for `bot`, or the first registered one available for it."""
    scorers = get_scorers(pm)
    if name is not None and name not in scorers:
        raise BotkitError(f"unknown scorer '{name}' (scorers: {', '.join(scorers) or 'none'})")
    for make in [scorers[name]] if name else scorers.values():
        if (scorer := make(bot)) is not None:
            return scorer
    raise BotkitError(f"scorer '{name}' is not available for this bot" if name else "no scorer is available")


def get_model_sources(pm: pluggy.PluginManager | None = None) -> list:
    """Every registered model source (see the `register_model_sources` hook), in call order."""
    sources = []
    (pm or plugin_manager()).hook.register_model_sources(register=sources.append)
    return sources


def get_annotators(pm: pluggy.PluginManager | None = None) -> dict:
    """Annotator name -> annotator (see the `register_annotators` hook); the first of a name wins."""
    annotators = {}
    (pm or plugin_manager()).hook.register_annotators(register=lambda a: annotators.setdefault(a.name, a))
    return annotators


def get_annotator(name: str, pm: pluggy.PluginManager | None = None):
    """The annotator registered as `name`; an unknown name is an error that lists the known ones."""
    return _named(get_annotators(pm), name, "annotator", "none")


def _named(registered: dict, name: str, kind: str, nothing: str):
    """`registered[name]`; an unknown name is an error that lists the known ones."""
    if name not in registered:
        raise BotkitError(f"unknown {kind} '{name}' ({kind}s: {', '.join(sorted(registered)) or nothing})")
    return registered[name]


def open_reply_log(bot, pm: pluggy.PluginManager | None = None):
    """Where `bot` logs its replies (the first plugin to offer one), or None."""
    return (pm or plugin_manager()).hook.open_reply_log(bot=bot)
