"""Docs that tests can keep honest: every CLI command is in the README's command table."""

from pathlib import Path

import typer.main

from botkit.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text()


def _commands(group, prefix: str = "botkit"):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_every_command_is_in_the_readme_table_and_has_help():
    table = [line for line in README.splitlines() if line.startswith("| `botkit ")]
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) >= 8
    for name, command in commands:
        assert any(row.startswith(f"| `{name}") for row in table), f"{name} missing from the README command table"
        assert (command.help or "").strip(), f"{name} has no --help text"


def test_readme_starts_with_the_two_commands_ci_runs():
    head = README.split("## ", 1)[0]
    assert "make demo" in head and "make test" in head
    assert "make test" in (Path(__file__).parent.parent / ".ci" / "run").read_text()
