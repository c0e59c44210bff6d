"""The Python surface a support tool embeds (behind `Bot.from_config`, `Bot.run_task`,
`Bot.record_feedback`): settings from a file or dict, OpenAI-style chats, logged replies and task
outputs with response ids, and feedback that lands in the ranking store. The HTTP server and the
LangChain integration are thin layers over these functions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path


from botkit.config import Settings, load_settings, read_settings_yaml
from botkit.decoding import DecodingOptions
from botkit.errors import BotkitError

VERDICTS = ("a", "b", "tie", "both-bad")


def settings_from(config: str | Path | dict | Settings | None = None) -> Settings:
    """Settings from a config YAML file, a dict of settings, `Settings` itself, or BOTKIT_HOME / env (None).
    Values given in the file or dict win over BOTKIT_* environment variables."""
    if config is None:
        return load_settings()
    if isinstance(config, Settings):
        return config
    if isinstance(config, (str, Path)):
        path = Path(config).expanduser()
        if not path.is_file():
            raise BotkitError(f"no config file at {path}")
        config = read_settings_yaml(path, "top_k: 4")
    if not isinstance(config, dict):
        raise BotkitError("a config is a YAML file path, a dict of settings or botkit.Settings")
    return load_settings(**config)


def log_reply(bot, message: str, reply, options: DecodingOptions | None, history: list[dict]) -> str:
    """Store `reply` as a response in the ranking store and return its id. A follow-up is stored with
    its conversation, so it is never paired with the same words asked out of context."""
    sources = [{"source": c.source, "text": c.text, "score": c.score} for c in reply.citations]
    messages = [*history, {"role": "user", "content": message}] if history else None
    decoding = options.model_dump() if options is not None and not reply.plugin else None
    return bot.store.log_response(message, reply.text, model=reply.model, plugin=reply.plugin, decoding=decoding,
                                  sources=sources, messages=messages, origin=bot.log_origin)


def text_of(content) -> str:
    """An OpenAI message `content`: a string, or a list of parts of which the text parts count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def split_chat(messages: list[dict]) -> tuple[list[dict], str]:
    """(earlier user/assistant turns, the last user message) of an OpenAI-style message list.
    System messages are left out: the brand profile is the system prompt."""
    turns = [{"role": m["role"], "content": text_of(m.get("content"))} for m in messages
             if m.get("role") in ("user", "assistant")]
    if not turns or turns[-1]["role"] != "user":
        raise BotkitError("the last message must come from the user")
    return turns[:-1], turns[-1]["content"]


def stream_chat(bot, messages: list[dict], session_id: str | None = None, **decoding) -> Iterator:
    """`bot.stream` for an OpenAI-style chat. With `session_id` the stored session supplies the history
    and only the last user message is new; without, a new session is seeded with the earlier turns."""
    history, message = split_chat(messages)
    if not message.strip():
        raise BotkitError("the message is empty")
    if session_id is None:
        session_id = bot.sessions.create(title=message)
        for turn in history:
            bot.sessions.append(session_id, turn["role"], turn["content"])
    yield from bot.stream(message, session_id, **decoding)


@dataclass
class TaskResult:
    """A plugin task's output, as chat text too, with the response id when the bot logs replies."""

    plugin: str
    output: object
    text: str
    model: str
    usage: dict
    citations: list = field(default_factory=list)
    id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def run_task(bot, plugin: str, text: str, **options) -> TaskResult:
    """Run `plugin`'s task on `text`; logged (with an id) when `bot.log_replies` is on."""
    from botkit.plugins import get_tasks
    from botkit.tasks import run_task as run
    from botkit.usage import metered

    with metered() as usage:
        output = run(bot, plugin, text, **options)
    task = get_tasks()[plugin]
    result = TaskResult(plugin, output, task.format(output), bot.engine.name, usage, task.citations(output))
    if bot.log_replies:
        sources = [{"source": c.source, "text": c.text, "score": c.score} for c in result.citations]
        result.id = bot.store.log_response(text.strip(), result.text, model=result.model, plugin=plugin,
                                           decoding=options or None, sources=sources, origin=bot.log_origin)
    return result


def record_feedback(store, response_id: str, rating: int | str | None = None, *, other_id: str | None = None,
                    verdict: str | None = None, reason: str = "", annotator: str = "api",
                    seconds: float | None = None) -> dict:
    """Thumbs on a response (`rating` 1 / -1, or "up" / "down"), or a preference between `response_id`
    (a) and `other_id` (b): `verdict` a | b | tie | both-bad, stored as a pair plus a comparison.
    Returns what was stored; unknown ids and bad values raise BotkitError."""
    if (rating is None) == (other_id is None):
        raise BotkitError("give either a rating (thumbs) or other_id + verdict (a preference), not both")
    store.response(response_id)
    annotator = store.add_annotator(annotator)
    if rating is not None:
        value = {"up": 1, "down": -1, 1: 1, -1: -1}.get(rating)
        if value is None or isinstance(rating, bool):
            raise BotkitError(f"a rating is 1 / 'up' or -1 / 'down', not {rating!r}")
        store.record_rating(response_id, annotator, value, reason)
        return {"kind": "rating", "response_id": response_id, "value": value, "annotator": annotator}
    store.response(other_id)
    if verdict not in VERDICTS:
        raise BotkitError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    pair_id = store.add_pair(response_id, other_id, origin="api")
    # The store keeps a pair's ids in order, so our a may be its b.
    if store.pair(pair_id)["a_id"] != response_id:
        verdict = {"a": "b", "b": "a"}.get(verdict, verdict)
    store.record_comparison(pair_id, annotator, verdict, reason=reason, seconds=seconds)
    return {"kind": "comparison", "pair_id": pair_id, "verdict": verdict, "annotator": annotator}
