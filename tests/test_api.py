"""The Python API a support tool embeds: Bot.from_config, replies with response ids, streaming,
run_task and record_feedback into the ranking store (tiny random model, real MiniLM and SQLite)."""

from __future__ import annotations

import pytest

from botkit.api import split_chat, stream_chat
from botkit.dialogue import Bot, Reply
from botkit.errors import BotkitError
from botkit.feedback.store import RankingStore

QUESTION = "How long is the warranty on the Zephyr 3000 kettle?"


@pytest.fixture
def store(bot) -> RankingStore:
    """The ranking store in the bot's database, where its replies are logged."""
    return RankingStore(bot.db)


def test_from_config_reads_a_yaml_file_or_a_dict(home, tmp_path):
    config = tmp_path / "support.yaml"
    config.write_text("top_k: 7\ndecoding:\n  max_new_tokens: 12\n")
    assert Bot.from_config(config).settings.top_k == 7
    assert Bot.from_config({"fewshot_k": 0}).settings.fewshot_k == 0
    with pytest.raises(BotkitError, match="no config file"):
        Bot.from_config(tmp_path / "missing.yaml")
    with pytest.raises(BotkitError, match="unknown setting 'colour'"):
        Bot.from_config({"colour": "red"})


def test_replies_carry_a_response_id_that_thumbs_can_name(bot, store):
    reply = bot.respond(QUESTION, "desk-1")
    assert reply.id.startswith("r_") and reply.citations
    stored = store.response(reply.id)
    assert stored["text"] == reply.text and stored["origin"] == "chat" and stored["model_version"] == reply.model
    assert bot.record_feedback(reply.id, -1, reason="too long", annotator="maria")["value"] == -1
    row = next(bot.db.query("SELECT annotator, value, reason FROM ratings"))
    assert row == {"annotator": "maria", "value": -1, "reason": "too long"}
    with pytest.raises(BotkitError, match="unknown response"):
        bot.record_feedback("r_nope", 1)
    with pytest.raises(BotkitError, match="a rating is 1"):
        bot.record_feedback(reply.id, 5)


def test_a_preference_between_two_responses_becomes_a_pair_and_a_comparison(bot, store):
    a = store.log_response("Tagline?", "Kettles that last.", model="v1")
    b = store.log_response("Tagline?", "Boil better.", model="v2")
    bot.record_feedback(b, other_id=a, verdict="a", reason="punchier", annotator="maria")  # b is better
    [judged] = store.comparisons()
    winner = judged["a_text"] if judged["verdict"] == "a" else judged["b_text"]
    assert winner == "Boil better." and judged["reason"] == "punchier"
    with pytest.raises(BotkitError, match="either a rating"):
        bot.record_feedback(a, 1, other_id=b)


def test_stream_yields_pieces_then_the_logged_reply(bot):
    items = list(bot.stream(QUESTION))
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) >= 2
    assert isinstance(items[-1], Reply) and items[-1].id
    assert "".join(items[:-1]) == items[-1].text  # the checked pieces are the answer


def test_plain_bots_log_nothing_and_refuse_feedback(bot, store):
    plain = Bot(bot.settings, engine=bot.engine, embedder=bot.embedder)
    assert plain.respond(QUESTION).id is None and plain.run_task("subject_lines", "Spring sale", n=1).id is None
    assert store.db["responses"].count == 0
    with pytest.raises(BotkitError, match="does not log its replies"):
        plain.record_feedback("r_0123456789abcdef", 1)


def test_an_openai_style_chat_seeds_a_session(bot, store):
    messages = [{"role": "system", "content": "ignored: the brand profile is the system prompt"},
                {"role": "user", "content": "How much does the Zephyr 3000 cost?"},
                {"role": "assistant", "content": "It costs $129."},
                {"role": "user", "content": [{"type": "text", "text": "and the warranty?"}]}]
    *_, reply = stream_chat(bot, messages)
    history = bot.sessions.history(reply.session_id)
    assert [m.role for m in history] == ["user", "assistant", "user", "assistant"]
    assert store.response(reply.id)["messages"][-1] == {"role": "user", "content": "and the warranty?"}
    with pytest.raises(BotkitError, match="last message must come from the user"):
        split_chat([{"role": "assistant", "content": "hi"}])


def test_run_task_returns_output_text_and_an_id(bot, store):
    result = bot.run_task("subject_lines", "Spring sale on kettles", n=2)
    # A random model's lines rarely pass the copy checks: then fewer rows, and the text says why.
    assert (len(result.output) == 2 and result.text.startswith("1. ")) or "passed the checks" in result.text
    assert store.response(result.id)["plugin"] == "subject_lines"
    # The small copy model is asked only for its ideas (off by default): its tokens are then counted.
    assert result.usage["completion_tokens"] == 0
    asked = bot.run_task("subject_lines", "Spring sale on kettles", n=2, ideas=True)
    assert asked.usage["completion_tokens"] > 0
    with pytest.raises(BotkitError, match="unknown plugin"):
        bot.run_task("nope", "x")
