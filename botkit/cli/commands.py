"""The `botkit` command: every command group (one module each; feedback, training, the server and
plugins bring their own) gathered into one typer app, and `main`, which turns a user's mistake into
one `error:` line. A command parses its options, calls a library function (the one tests call) and
prints the result, as text or, with --json, as JSON. Library modules are imported when a command
runs, so `botkit --help` starts without loading models."""

from __future__ import annotations

import os
import sys

import typer

from botkit.cli.backup import backup, restore
from botkit.cli.chat import ask, chat, ingest, run_app
from botkit.cli.eval import eval_app
from botkit.cli.init import init
from botkit.cli.models import models_app
from botkit.cli.output import print_error, warn
from botkit.cli.plugins import plugins_app, run
from botkit.errors import BotkitError
from botkit.feedback.cli import feedback_app
from botkit.feedback.training.cli import train_app
from botkit.plugins import plugin_manager
from botkit.server.cli import keys_app, serve

app = typer.Typer(help="botkit: a brand chatbot with grounded answers and a human-feedback loop.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
for command, name in ((ask, "ask"), (chat, "chat"), (ingest, "ingest"), (run, "run"), (run_app, "app"),
                      (serve, "serve"), (backup, "backup"), (restore, "restore"), (init, "init")):
    app.command(name)(command)
for group, name in ((models_app, "models"), (eval_app, "eval"), (plugins_app, "plugins"),
                    (feedback_app, "feedback"), (train_app, "train"), (keys_app, "keys")):
    app.add_typer(group, name=name)


def _add_plugin_commands() -> None:
    try:
        plugin_manager().hook.register_commands(cli=app)
    except BotkitError as exc:  # a broken plugin must not take the built-in commands down with it
        warn(str(exc))


_add_plugin_commands()


def _check_arguments(args: list[str]) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates, which no tokenizer, database or
    terminal accepts: refuse them here, once, instead of failing deep inside a command."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(arg).decode("utf-8", "backslashreplace")
            raise BotkitError(f"the argument '{shown}' is not UTF-8 text: botkit reads arguments and file names "
                              "as UTF-8") from None


def main() -> None:
    try:
        _check_arguments(sys.argv[1:])
        app()
    except BotkitError as exc:
        print_error(str(exc))
        raise SystemExit(1) from None
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named: a bug to see whole
            raise
        # A path the user gave that the system refuses (too long, not permitted, a folder...).
        print_error(f"{exc.filename}: {exc.strerror}")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
