"""The terminal chat's logic, apart from any terminal: read a message, answer it (streamed) or run a
chat command (/help /reset /sources /quit), and hand each thing to show to a callable. `botkit chat`
is a thin shell over `chat_loop`; tests push messages in and read what comes out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from botkit.errors import BotkitError

COMMANDS = ("/help  this list", "/reset  start a new conversation",
            "/sources  show the sources of the last answer", "/quit  leave")


@dataclass(frozen=True)
class Shown:
    """One thing the chat shows. `chunk`: a piece of the answer as it streams; `reply`: the checked
    answer (in `reply`), which replaces the streamed pieces; `source`: a citation's title line, a line
    break and its text; `error`: a user's mistake, one line."""

    kind: Literal["greeting", "help", "notice", "chunk", "reply", "source", "error"]
    text: str
    reply: object | None = None  # the dialogue's Reply, for kind "reply"


def chat_loop(bot, read: Callable[[], str | None], show: Callable[[Shown], None], session: str | None = None) -> str:
    """Answer the messages `read` returns (None: the user left) until `/quit`; returns the session id."""
    session_id, last = bot.sessions.ensure(session), None
    show(Shown("greeting", f"{bot.brand.name} assistant — /help for commands, Ctrl-D to leave."))
    while (message := read()) is not None:
        message = message.strip()
        if not message:
            continue
        if message in {"/quit", "/exit"}:
            break
        if message == "/help":
            for line in (*COMMANDS, *task_commands(bot)):
                show(Shown("help", line))
        elif message == "/reset":
            session_id, last = bot.sessions.create(), None
            show(Shown("notice", "New conversation."))
        elif message == "/sources":
            for line in source_lines(last):
                show(line)
        else:
            try:
                for item in bot.stream(message, session_id):
                    if isinstance(item, str):
                        show(Shown("chunk", item))
                    else:
                        last = item
                        show(Shown("reply", item.text, item))
            except BotkitError as exc:  # e.g. an unknown /command: say so and keep chatting
                show(Shown("error", str(exc)))
    return session_id


def task_commands(bot) -> list[str]:
    """One help line per task: its /name and aliases, and its description."""
    lines = []
    for name, task in sorted(bot.router.tasks.items()):
        words = " or ".join(f"/{w}" for w in (name, *task.aliases))
        lines.append(f"{words} [options k=v] TEXT  {task.description}")
    return lines


def source_lines(reply) -> list[Shown]:
    if not reply or not reply.citations:
        return [Shown("notice", "The last answer cited no sources.")]
    return [Shown("source", f"[{c.n}] {c.title} ({c.source}, relevance {c.score:.2f})\n{c.text}")
            for c in reply.citations]
