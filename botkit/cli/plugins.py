"""`botkit plugins list` and `botkit run`: the tasks plugins add, and running one on a text."""

from __future__ import annotations

import re
from typing import Optional

import typer
from rich.markup import escape

from botkit.cli.chat import load_bot
from botkit.cli.output import JSON, OPTIONS, console, parse_option_pairs, print_json, print_table
from botkit.plugins import describe_tasks

plugins_app = typer.Typer(help="See the installed plugins and the tasks they add.", no_args_is_help=True)


@plugins_app.command("list")
def plugins_list(json_out: bool = JSON):
    """List the tasks plugins provide: name, description and options (type, default)."""
    rows = describe_tasks()
    if json_out:
        print_json(rows)
        return
    for row in rows:
        console.print(f"[bold]{row['name']}[/bold]  {row['description']}", highlight=False)
        for o in row["options"]:
            console.print(f"    {o['name']}: {o['type']} = {o['default']!r}  [dim]{o['help']}[/dim]", highlight=False)


def run(plugin: str = typer.Argument(..., help="The task to run (see `botkit plugins list`)."),
        text: str = typer.Argument(..., help="The text the task works on."),
        option: Optional[list[str]] = OPTIONS,
        json_out: bool = JSON):
    """Run a plugin's task on TEXT with the active model."""
    options = parse_option_pairs(option)
    result = load_bot().run_task(plugin, text, **options)
    output = result.output
    if json_out:
        print_json({"plugin": plugin, "model": result.model, "output": output, "text": result.text,
                    "usage": result.usage})
        return
    if isinstance(output, list) and output and all(isinstance(row, dict) for row in output):
        from botkit.tasks.copy_checks import with_note

        # A column nobody filled (a subject line's preview when none was asked) is left out, not shown as "None".
        columns = [key for key in output[0] if any(row.get(key) is not None for row in output)]
        print_table(columns, (_escaped_cells({key: row.get(key) for key in columns}) for row in output))
        if notes := with_note("", output):  # fewer than asked, the copy model's ideas: said under the table too
            console.print(escape(re.sub(r"(?m)^_(.*)_$", r"\1", notes)), highlight=False)  # italics are chat's
        return
    console.print(escape(result.text), highlight=False)
    for c in result.citations:
        console.print(f"[dim][{c.n}] {c.source}[/dim]", highlight=False)


def _escaped_cells(row: dict) -> list[str]:
    """A task's output row as table cells (lists joined), escaped: "[/]" from the user's text must print."""
    return [escape(", ".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v))
            for v in row.values()]
