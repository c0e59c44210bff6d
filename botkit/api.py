"""What the Python, HTTP and LangChain surfaces share around a `Bot`: settings from a config file or
dict (`Bot.from_config`), and OpenAI-style chats (message lists) answered in a stored session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from botkit.config import Settings, load_settings, read_settings_yaml
from botkit.errors import BotkitError


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
        session_id = bot.start_session(message, history)
    yield from bot.stream(message, session_id, **decoding)
