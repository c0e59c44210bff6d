"""End to end on the real default model through the Python API."""

import re

import pytest

from botkit.dialogue import Bot

pytestmark = pytest.mark.e2e


@pytest.fixture
def bot(settings, default_engine, embedder, knowledge_dir):
    bot = Bot(settings, engine=default_engine, embedder=embedder)
    bot.knowledge.ingest(knowledge_dir)
    return bot


def test_token_budget_trims_a_long_history_without_error(bot):
    bot.settings.context_window = 768  # the default engine's window (engines.llamacpp.context)
    sid = bot.sessions.create()
    for i in range(30):
        bot.sessions.append(sid, "user", f"Question {i}: tell me about your toasters and kettles in detail.")
        bot.sessions.append(sid, "assistant", "Our Brookside toasters and Zephyr kettles are built to last. " * 3)
    reply = bot.respond("How many grind settings does the Millrace Burr Grinder have?", sid)
    assert reply.dropped["history_messages"] > 0
    assert reply.usage["prompt_tokens"] <= 768 - bot.settings.decoding.max_new_tokens
    assert "31" in reply.text and any("31" in c.text for c in reply.citations)


def test_every_fact_in_a_grounded_answer_is_in_its_sources(bot):
    for question in ("What does the Zephyr Mini cost?", "How long do I have to return an item?",
                     "What year was Kettlebrook founded?"):
        reply = bot.respond(question)
        assert reply.grounding in {"generated", "quoted"}
        sources = " ".join(c.text for c in reply.citations)
        for figure in re.findall(r"\d+(?:\.\d+)?", re.sub(r"\[\d+\]", "", reply.text)):
            assert figure in sources, (question, reply.text)
