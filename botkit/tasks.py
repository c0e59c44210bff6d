"""What a task plugin provides (`Task`), the active model as a langchain-core Runnable, and
`run_task`, the one way the CLI, chat and Python run a task.

A task builds a Runnable (prompt | model | parser); the core only calls invoke / batch / stream on
it, so any engine or model version that is active works.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, convert_to_openai_messages
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ConfigDict, ValidationError

from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError


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

    def build(self, bot, options: TaskOptions) -> Runnable:
        """The Runnable that turns the user's text into this task's output, on `bot.engine`."""
        raise NotImplementedError

    def evaluate(self, bot, dataset: list[dict], on_progress=None, **options) -> dict:
        """Metrics of this task on `dataset` (optional); `on_progress(done)` after each item or batch."""
        raise BotkitError(f"the {self.name} task has no evaluation")

    def citations(self, output) -> list:
        """The sources `output` cites (`botkit.dialogue.Citation`), listed under the answer in chat."""
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
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"]))
            if first["type"] == "extra_forbidden":
                allowed = ", ".join(self.Options.model_fields) or "none"
                raise BotkitError(f"unknown option '{where}' for {self.name} (options: {allowed})") from None
            raise BotkitError(f"bad option {where} for {self.name}: {first['msg']}") from None

    def describe(self) -> dict:
        options = [{"name": name, "type": _type_name(f.annotation), "help": f.description or "",
                    "default": None if f.is_required() else f.get_default(call_default_factory=True)}
                   for name, f in self.Options.model_fields.items()]
        return {"name": self.name, "description": self.description, "plugin": type(self).__module__, "options": options}


def _type_name(annotation) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def chat_prompt(system: str, examples: list[dict] = (), human: str = "{text}") -> ChatPromptTemplate:
    """System prompt, few-shot turns, then the user's text. Message objects keep braces in brand
    copy from being read as template variables."""
    shots = [m for ex in examples for m in (HumanMessage(ex["input"]), AIMessage(ex["output"]))]
    return ChatPromptTemplate.from_messages([SystemMessage(system), *shots, ("human", human)])


def to_chat(value) -> list[dict]:
    """A prompt value, langchain messages, chat dicts or a bare string as engine chat messages."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, PromptValue):
        value = value.to_messages()
    return [{"role": m["role"], "content": m["content"]} for m in convert_to_openai_messages(value)]


class ModelStep(Runnable):
    """The active engine as a Runnable: chat in, completion text out. `batch` is one batched
    generate call (not a thread per input) and `stream` yields text as it is decoded."""

    def __init__(self, engine, options: DecodingOptions):
        self.engine, self.options = engine, options

    def invoke(self, input, config=None, **kwargs) -> str:
        return self.engine.generate(to_chat(input), self.options).text

    def batch(self, inputs: list, config=None, *, return_exceptions: bool = False, **kwargs: Any) -> list[str]:
        return [g.text for g in self.engine.generate_batch([to_chat(i) for i in inputs], self.options)] if inputs else []

    def stream(self, input, config=None, **kwargs) -> Iterator[str]:
        for piece in self.engine.stream(to_chat(input), self.options):
            if isinstance(piece, str):
                yield piece


def chat_model(bot, **decoding) -> ModelStep:
    """`bot`'s active model with its configured decoding, changed by `decoding` (validated)."""
    return ModelStep(bot.engine, bot.settings.decoding.merged(**decoding))


def describe_tasks() -> list[dict]:
    from botkit.plugins import get_tasks

    return [task.describe() for _, task in sorted(get_tasks().items())]


def parse_option_pairs(pairs: list[str]) -> dict:
    """`["n=3", "preview=true"]` as a dict; the task's Options model converts the values."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BotkitError(f"--option expects key=value, got '{pair}'")
        options[key.strip()] = value.strip()
    return options


def run_task(bot, name: str, text: str, **options):
    """Run the task `name` on `text` with `bot`'s active model and return its output."""
    from botkit.plugins import get_tasks

    tasks = get_tasks()
    if name not in tasks:
        raise BotkitError(f"unknown plugin '{name}' (plugins: {', '.join(sorted(tasks)) or 'none loaded'})")
    task = tasks[name]
    parsed = task.parse_options(options)
    text = (text or "").strip()
    if not text:
        raise BotkitError("the text is empty")
    return task.build(bot, parsed).invoke(text)
