"""Logged replies and the feedback on them, in the ranking store: the `ReplyLog` the dialogue core
is given (by `Bot.from_config` through the `open_reply_log` hook, and by the HTTP server), so a
reply gets an id that thumbs and preferences can name."""

from __future__ import annotations

from botkit.errors import BotkitError
from botkit.feedback.store import VERDICTS, RankingStore
from botkit.hookspecs import hookimpl


def sources_of(citations) -> list[dict]:
    """What the ranking store keeps of a reply's citations: the source, its text and the score."""
    return [{"source": c.source, "text": c.text, "score": round(float(c.score), 4)} for c in citations]


def model_saw(reply) -> dict:
    """What the model saw and wrote behind a Reply or TaskResult, as `RankingStore.log_response`
    takes it: the engine's chat and the model's own output (a Reply's draft, a task's candidate);
    nothing when the model was not asked."""
    if not reply.engine_messages:
        return {}
    output = reply.model_output if hasattr(reply, "model_output") else reply.draft
    return {"engine_messages": reply.engine_messages, "output": output.strip() if output else None}


class StoreReplyLog:
    """A `botkit.replies.ReplyLog` over the ranking store; `origin` says which surface answered."""

    def __init__(self, store: RankingStore, origin: str = "chat"):
        self.store, self.origin = store, origin

    def log_reply(self, prompt: str, reply, *, decoding: dict | None = None, history: list[dict] | None = None) -> str:
        """Store `reply` (a Reply or a TaskResult) as a response to `prompt` and return its id. A
        follow-up is stored with its conversation, so it is never paired with the same words asked
        out of context."""
        messages = [*history, {"role": "user", "content": prompt}] if history else None
        return self.store.log_response(prompt, reply.text, model=reply.model, plugin=reply.plugin, decoding=decoding,
                                       sources=sources_of(reply.citations), messages=messages, origin=self.origin,
                                       **model_saw(reply))

    def record_feedback(self, response_id: str, rating: int | str | None = None, **feedback) -> dict:
        return record_feedback(self.store, response_id, rating, **feedback)


def record_feedback(store: RankingStore, response_id: str, rating: int | str | None = None, *,
                    other_id: str | None = None, verdict: str | None = None, reason: str = "",
                    annotator: str = "api", seconds: float | None = None) -> dict:
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
    with store.write():  # one transaction: a process killed in between never leaves a pair without its verdict
        pair_id = store.add_pair(response_id, other_id, origin="api")
        # The store keeps a pair's ids in order, so our a may be its b.
        if store.pair(pair_id)["a_id"] != response_id:
            verdict = {"a": "b", "b": "a"}.get(verdict, verdict)
        store.record_comparison(pair_id, annotator, verdict, reason=reason, seconds=seconds)
    return {"kind": "comparison", "pair_id": pair_id, "verdict": verdict, "annotator": annotator}


@hookimpl
def open_reply_log(bot) -> StoreReplyLog:
    return StoreReplyLog(RankingStore(bot.db), origin="chat")
