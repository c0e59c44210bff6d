"""Loads botkit's plugins: the built-ins in DEFAULT_PLUGINS and third-party ones from the
`botkit.plugins` entry-point group, through one pluggy manager.

BOTKIT_PLUGINS=a,b loads only the plugins named (built-ins by their module's last part, others by
entry-point name; empty loads none). BOTKIT_TRACE_PLUGINS=1 traces every hook call to stderr.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from importlib.metadata import entry_points

import pluggy

from botkit import hookspecs
from botkit.errors import BotkitError

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


def get_tasks(pm: pluggy.PluginManager | None = None) -> dict:
    """Every registered task by name; two tasks with one name is an error, never a silent override."""
    tasks = {}

    def register(task) -> None:
        if task.name in tasks:
            owners = f"{type(tasks[task.name]).__module__} and {type(task).__module__}"
            raise BotkitError(f"two plugins register a task named '{task.name}' ({owners}): disable one with BOTKIT_PLUGINS")
        tasks[task.name] = task

    (pm or plugin_manager()).hook.register_tasks(register=register)
    return tasks
