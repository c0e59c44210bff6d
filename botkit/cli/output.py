"""What every botkit command prints with: the `--json` option and its printer, rich tables and
progress bars, the one-line `error:`, and `--option key=value` pairs as a dict. Plugins' commands
use it too. (A pydantic error becomes one line with `botkit.errors.validation_message`: the core
needs it as well.)"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from botkit.errors import BotkitError

# Set before any command imports transformers or huggingface_hub, which read them at import time:
# their log lines and progress bars would bury a command's own output.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")
OPTIONS = typer.Option(None, "--option", "-o", help="A task option as key=value (repeatable).")


def print_json(data) -> None:
    """`data` as indented JSON on stdout (dates and paths as strings), nothing else."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_error(message: str) -> None:
    """A user's mistake as the one line `error: ...` on stderr."""
    # escape: a message quotes user input, and "[/]" in it must print, not fail as rich markup.
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False)


def print_table(columns: Iterable[str], rows: Iterable[Iterable], *, empty: str | None = None, **options) -> None:
    """A rich table of `rows` (cells shown with str, lists joined by commas); `empty` is printed
    instead when there are no rows. `options` go to rich's Table (title, caption)."""
    table = Table(*columns, **options)
    for row in rows:
        table.add_row(*(", ".join(map(str, cell)) if isinstance(cell, list) else str(cell) for cell in row))
    console.print(f"[dim]{empty}[/dim]" if empty is not None and not table.rows else table)


def fmt(value, spec: str = ".2f") -> str:
    """A figure for a table or sentence: `-` when there is none."""
    return "-" if value is None else format(value, spec)


def progress(hidden: bool = False, transient: bool = False) -> Progress:
    """A progress bar on stderr (label, bar, done/total, time), hidden for `--json` runs."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, disable=hidden, transient=transient)


@contextlib.contextmanager
def logs_to_stderr() -> Iterator[None]:
    """Libraries (transformers, TRL) print log lines on stdout: keep stdout for the result alone."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def parse_option_pairs(pairs: list[str] | None) -> dict:
    """`["n=3", "preview=true"]` (repeated `--option`) as a dict of strings; the task's Options
    model converts the values."""
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BotkitError(f"--option expects key=value, got '{pair}'")
        options[key.strip()] = value.strip()
    return options
