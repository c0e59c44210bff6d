"""What the dialogue core hands back: a reply (its text, citations and how it came about), a plugin
task's result, a draft piece, and where replies are logged (`ReplyLog`). Kept apart from the `Bot`
so that the server, the apps and plugins can name these types without the dialogue machinery."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

# How a reply's text came about: the model's own checked words, a quote of the sources, the brand's
# don't-know line, the empty-knowledge-base notice, or a plugin's task output.
Grounding = Literal["generated", "quoted", "dont-know", "empty-knowledge-base", "plugin"]


@dataclass
class Citation:
    """A source a reply cites as [n]: the chunk's file, title, id, text and retrieval similarity."""

    n: int
    source: str
    title: str
    chunk_id: str
    text: str
    score: float


@dataclass
class Reply:
    text: str
    citations: list[Citation]
    model: str
    usage: dict
    grounding: Grounding
    session_id: str
    plugin: str | None = None
    dropped: dict = field(default_factory=dict)
    draft: str = ""  # the model's own answer, before the grounding check
    route: str = ""  # why a plugin answered (explicit command or intent match)
    check: str = ""  # why the draft was kept or replaced
    id: str | None = None  # the response id in the ranking store, set when the reply is logged (for feedback)
    finish_reason: Literal["stop", "length"] = "stop"  # "length": the answer ends where max_new_tokens cut the draft
    # The chat the engine received (system, few-shot, sources, history, the user turn); empty when the
    # model was not asked (a canned or quoted-in-parts reply). Logged with `draft` so training sees it.
    engine_messages: list[dict] = field(default_factory=list)
    ranker: str = ""  # what ranked best-of-N: a plugin's candidates (see TaskResult) or chat drafts (answer_candidates)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["answer"] = self.text
        return data


@dataclass
class Draft:
    """A piece of the model's unchecked draft, which `Bot.stream(..., drafts=True)` also yields."""

    text: str


@dataclass
class TaskResult:
    """A plugin task's output, as chat text too, with the response id when the bot logs replies."""

    plugin: str
    output: object
    text: str
    model: str
    usage: dict
    citations: list[Citation] = field(default_factory=list)
    id: str | None = None
    # The chat the task last sent the engine and what the model wrote for it (best-of-N: the candidate
    # shown first); empty / None when the task asked no model (botkit.tasks.model.model_calls).
    engine_messages: list[dict] = field(default_factory=list)
    model_output: str | None = None
    ranker: str = ""  # the scorer that ranked best-of-N candidates ("reward_version", "brand_similarity")

    def as_dict(self) -> dict:
        return asdict(self)


class ReplyLog(Protocol):
    """Where a bot logs its replies and the feedback on them, so feedback can name a reply by id.
    The ranking store (`botkit.feedback.reply_log`) is one: `Bot.from_config` and the HTTP server
    wire it in; a plain `Bot()` logs nothing."""

    def log_reply(self, prompt: str, reply: Reply | TaskResult, *, decoding: dict | None = None,
                  history: list[dict] | None = None) -> str:
        """Store `reply` to `prompt` (after the conversation `history`) and return its response id."""

    def record_feedback(self, response_id: str, rating: int | str | None = None, *, other_id: str | None = None,
                        verdict: str | None = None, reason: str = "", annotator: str = "api") -> dict:
        """Thumbs on a logged reply, or a preference between it (a) and `other_id` (b)."""
