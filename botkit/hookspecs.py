"""The hooks a botkit plugin can implement. Each docstring here is that hook's documentation.

A plugin is a module (or object) with functions marked `@botkit.hookimpl`. Built-in plugins are the
modules listed in `botkit.plugins` (ESSENTIAL_PLUGINS, DEFAULT_PLUGINS); third-party plugins are
found through the `botkit.plugins` entry-point group. Both are registered on one pluggy manager, so
built-ins use exactly these hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer

    from botkit.dialogue import Bot
    from botkit.replies import ReplyLog
    from botkit.tasks import Scorer, Task

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


@hookspec
def register_engines(register: Callable[..., None]) -> None:
    """Add inference engines: call `register(name, load)` once per engine, as llm's `register_models`.

    `load(spec, settings, adapter=None)` returns a ready `botkit.models.engine.Engine` (generate,
    batch, stream, count tokens, score) for a model spec; the `engine` setting names the one
    `botkit.models.loading.load_engine` uses. The built-in engines (transformers, llamacpp, openai,
    vllm) register through this hook too; two engines with one name is an error.
    """


@hookspec
def register_document_loaders(register: Callable[..., None]) -> None:
    """Teach `botkit ingest` a file type: call `register(load, ".ext", ...)` with the suffixes it reads.

    `load(path: Path) -> list[Section | str]` returns the file's sections (`botkit.knowledge.sections.Section`:
    a heading path and its units of clean text) or plain strings, read as plain text (headings, paragraphs,
    bullets) or, for "Q: ...\nA: ...", as one question-answer pair; raise `BotkitError` naming the file for
    one that cannot be read. The first registration of a suffix wins and the built-ins register last, so a
    plugin can replace them.
    """


@hookspec
def register_scorers(register: Callable[[str, Callable[[Bot], Scorer | None]], None]) -> None:
    """Add a way to rank best-of-N candidates: call `register(name, make)`.

    `make(bot)` returns a scorer for that bot (`texts -> scores`, higher is better), or None when it
    cannot score there (e.g. no reward model trained yet). Copy tasks rank with the first scorer
    available (`botkit.tasks.copy_scorer`): plugins' before the built-in `brand_similarity`.
    """


@hookspec
def register_model_sources(register: Callable[[Any], None]) -> None:
    """Add names that work as a model spec (`botkit models use NAME`): call `register(source)`.

    `source.resolve(spec: str, cache_dir: Path) -> (base, adapter dir or None) | None` turns a name it
    knows into what to load (None: not one of its names); `source.list_models(active: str) ->
    list[dict]` gives its rows for `botkit models list` (`name`, `kind`, `status`, `location`,
    `active`). The model registry registers trained versions this way.
    """


@hookspec
def register_annotators(register: Callable[[Any], None]) -> None:
    """Add a judge of candidate pairs (`botkit.feedback.annotators`): call `register(annotator)`.

    `annotator.name` names it; `annotator.judge(prompt, a, b, context)` returns "a", "b", "tie" or
    "both-bad" for two candidate texts, `context` a `botkit.feedback.annotators.JudgeContext` (the
    plugin, the checks a text fails, the brand's words). The built-in `simulated` annotator registers
    last, so a plugin's judge of the same name (an LLM judge on a strong model, say) replaces it.
    """


@hookspec(firstresult=True)
def open_reply_log(bot: Bot) -> ReplyLog | None:
    """Return where `Bot.from_config` bots log their replies and the feedback on them (a
    `botkit.replies.ReplyLog`), or None to leave it to another plugin. The first answer is used; the
    ranking store answers this, so replies get ids that thumbs and preferences can name.
    """
