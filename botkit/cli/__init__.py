"""The `botkit` command line: `app` and `main` (botkit.cli.commands), what commands print with
(botkit.cli.output) and one module per command group."""


def __getattr__(name: str):
    # `app` and `main` load on first use: the command modules of other packages (feedback, server,
    # plugins) import botkit.cli.output, and an __init__ that imported them back would be a cycle.
    if name in ("app", "main"):
        from botkit.cli import commands

        return getattr(commands, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
