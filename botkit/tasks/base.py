"""The base of every task a plugin registers: `Task` (name, description, typed `Options`, `build`
returning a langchain-core Runnable) and `TaskOptions`, where an unknown option is an error.

`Bot.run_task` runs a task; the core only calls invoke / batch / stream on what `build` returns,
so any engine or model version that is active works.
"""

from __future__ import annotations

from typing import ClassVar

from langchain_core.runnables import Runnable
from pydantic import BaseModel, ConfigDict, ValidationError

from botkit.errors import BotkitError, validation_message


class TaskOptions(BaseModel):
    """Base of every task's `Options`: unknown options are an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Task:
    """A task a plugin registers. Subclasses set the class attributes and implement `build`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""  # one line: shown by `botkit plugins list`, used for routing
    Options: ClassVar[type[TaskOptions]] = TaskOptions
    examples: ClassVar[list[dict]] = []  # few-shot turns: {"input": ..., "output": ...}
    aliases: ClassVar[tuple[str, ...]] = ()  # extra chat commands: ("subject",) allows /subject
    intents: ClassVar[list[str]] = []  # requests that mean this task, for routing chat messages to it
    dataset_fields: ClassVar[tuple[str, ...]] = ("text",)  # what each line of an `evaluate` dataset must have
    # The task works on a text the user hands it (an email, a review): a chat message that is only a
    # request, with no such text ("How do I make a complaint?"), is never routed to it.
    needs_text: ClassVar[bool] = False

    def build(self, bot, options: TaskOptions) -> Runnable:
        """The Runnable that turns the user's text into this task's output, on `bot.engine`."""
        raise NotImplementedError

    def engine(self, bot):
        """The engine this task writes with: the bot's chat model (copy tasks: `brand_voice.copy_engine`)."""
        return bot.engine

    def evaluate(self, bot, dataset: list[dict], on_progress=None, **options) -> dict:
        """Metrics of this task on `dataset` (optional); `on_progress(done)` after each item or batch."""
        raise BotkitError(f"the {self.name} task has no evaluation")

    def citations(self, output) -> list:
        """The sources `output` cites (`botkit.replies.Citation`), listed under the answer in chat."""
        return []

    def format(self, output) -> str:
        """The output as chat text (Markdown): rows become a numbered list."""
        if isinstance(output, list) and all(isinstance(row, dict) for row in output):
            lines = []
            for i, row in enumerate(output, 1):
                values = [str(v) for v in row.values() if v not in (None, "", []) and not isinstance(v, float)]
                lines.append(f"{i}. " + " — ".join(values))
            return "\n".join(lines)
        return output if isinstance(output, str) else str(output)

    def parse_options(self, raw: dict) -> TaskOptions:
        try:
            return self.Options.model_validate(raw)
        except ValidationError as exc:
            allowed = list(self.Options.model_fields) or ["none"]
            raise BotkitError(validation_message(exc, "option", allowed, of=self.name)) from None

    def describe(self) -> dict:
        options = [{"name": name, "type": _type_name(f.annotation), "help": f.description or "",
                    "default": None if f.is_required() else f.get_default(call_default_factory=True)}
                   for name, f in self.Options.model_fields.items()]
        return {"name": self.name, "description": self.description, "plugin": type(self).__module__, "options": options}


def _type_name(annotation) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
