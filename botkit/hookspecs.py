"""The hooks a botkit plugin can implement. Each docstring here is that hook's documentation.

A plugin is a module (or object) with functions marked `@botkit.hookimpl`, registered through the
`botkit.plugins` entry-point group; built-in plugins in `plugins/` are loaded the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from botkit.tasks import Task

hookspec = pluggy.HookspecMarker("botkit")
hookimpl = pluggy.HookimplMarker("botkit")


@hookspec
def register_tasks(register: Callable[[Task], None]) -> None:
    """Add tasks: call `register(task)` once per `botkit.tasks.Task` instance.

    A task's `name` must be unique across all loaded plugins; it becomes `botkit run NAME`.
    """


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add commands to the `botkit` CLI: `@cli.command()` functions or `cli.add_typer(sub, name=...)`.

    Keep commands thin (a few lines over a library function) and raise `BotkitError` for user
    mistakes: the CLI prints it as one `error:` line.
    """
