"""The summarize and support_reply plugins, and the structured-output retries they stand on: canned
replies for the parsing rules, the tiny random model for the mechanics, the default model end to end."""

import re

import pytest

from botkit.default_plugins.summarize import supported
from botkit.default_plugins.support_reply import questions_in
from botkit.errors import BotkitError
from botkit.prompting.brand import sample_brand_dir


@pytest.fixture(autouse=True)
def sample_brand(monkeypatch):
    """These bots start before the sample's documents are ingested: name the sample brand, as a user would."""
    monkeypatch.setenv("BOTKIT_BRAND", str(sample_brand_dir() / "brand.yaml"))

TICKET = ("Maria ordered a Zephyr Mini on March 3 and it arrived on March 9 with a cracked lid. She sent photos "
          "on March 10. Our agent offered a replacement lid, but Maria wants a full refund because the kettle "
          "was a gift. The order total was $59. She has been a customer for six years.")


def test_summary_keeps_only_points_the_text_supports(task_runner):
    task_runner.engine.responses = ["- Maria wants a full refund because the kettle was a gift.\n"
                                    "- The kettle exploded and caused $5,000 of damage.\n"
                                    "- The order total was $59."]
    out = task_runner("summarize", TICKET, points=3)
    assert out == {"points": ["Maria wants a full refund because the kettle was a gift.", "The order total was $59."],
                   "method": "generated", "note": ""}
    assert len(task_runner.engine.calls) == 1


def test_summary_retries_then_extracts_key_sentences_and_says_so(task_runner):
    task_runner.engine.responses = ["- Our toasters are the best in Europe and ship free."]
    out = task_runner("summarize", TICKET, points=2)
    assert len(task_runner.engine.calls) == 3  # one greedy try and two sampled retries
    assert out["method"] == "extracted" and len(out["points"]) == 2
    assert all(point in TICKET for point in out["points"])
    assert "no valid summary in 3 tries" in out["note"]
    assert "did not match" in task_runner.bot.router.tasks["summarize"].format(out)


def test_summary_without_extraction_fails_with_the_reason(task_runner):
    task_runner.engine.responses = ["- Our toasters are the best in Europe and ship free."]
    with pytest.raises(BotkitError, match=r"gave no valid summary in 3 tries \(last: no point matched the text"):
        task_runner("summarize", TICKET, extract=False)


def test_a_short_text_is_its_own_summary(task_runner):
    out = task_runner("summarize", "The kettle is great. It boils fast.", points=3)
    assert out["points"] == ["The kettle is great.", "It boils fast."] and task_runner.engine.calls == []


@pytest.mark.parametrize("point, reason", [
    ("The order total was $75.", "a figure the text does not have"),
    ("Refund", "too short"),
    ("Maria complained loudly on television yesterday evening.", "words the text does not use"),
    ("She sent photos on March 10.", ""),
])
def test_points_are_checked_against_the_text(point, reason):
    assert supported(point, TICKET).startswith(reason)


def test_tiny_model_summary_is_made_of_the_texts_sentences(tiny_bot):
    out = tiny_bot.run_task("summarize", TICKET, points=2).output
    assert 1 <= len(out["points"]) <= 2
    assert all(not supported(p, TICKET) for p in out["points"])


def test_chat_plugin_replies_count_their_tokens(task_runner):
    task_runner.engine.responses = ["- The order total was $59."]
    reply = task_runner.bot.respond(f"/tldr points=1 {TICKET}")
    assert reply.plugin == "summarize" and reply.text.startswith("- The order total was $59.")
    assert reply.usage["prompt_tokens"] > 50 and reply.usage["completion_tokens"] == 6


def test_questions_are_split_out_of_an_email():
    email = "Hi there. How long is the warranty? I love the kettle. Do you ship to Canada?"
    assert questions_in(email) == ["How long is the warranty?", "Do you ship to Canada?"]
    assert questions_in("My order  has not arrived.") == ["My order has not arrived."]


def test_support_reply_answers_each_question_with_numbered_citations(tiny_bot, knowledge_dir):
    tiny_bot.knowledge.ingest(knowledge_dir)
    out = tiny_bot.run_task("support_reply", "How long is the warranty on the Zephyr 3000? Do you ship to Canada? "
                   "Do you sell fridges?", customer="Dana").output
    assert out["reply"].startswith("Hi Dana,\n\n") and out["reply"].endswith("Best regards,\nThe Kettlebrook team")
    assert [a["question"] for a in out["answers"]] == ["How long is the warranty on the Zephyr 3000?",
                                                       "Do you ship to Canada?", "Do you sell fridges?"]
    assert out["answers"][2]["grounding"] == "dont-know" and tiny_bot.brand.dont_know in out["reply"]
    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", out["reply"])})
    assert cited == [c["n"] for c in out["citations"]] == list(range(1, len(cited) + 1))
    assert {c["source"].rsplit("/", 1)[-1] for c in out["citations"]} >= {"warranty.md", "shipping.md"}
    assert tiny_bot.sessions.list() == []  # drafting a reply logs no chat session


@pytest.fixture
def real_bot(settings, default_engine, embedder):
    from botkit.dialogue import Bot

    return Bot(settings, engine=default_engine, embedder=embedder)


@pytest.mark.e2e
def test_default_model_support_reply_gives_the_warranty_fact(real_bot, knowledge_dir):
    real_bot.knowledge.ingest(knowledge_dir)
    reply = real_bot.respond("/reply customer=Sam Hello! How long is the Zephyr 3000 kettle's warranty?")
    assert reply.plugin == "support_reply" and reply.text.startswith("Hi Sam,")
    # Both the warranty page and the product page state it; the warranty page must be among the citations.
    assert "seven" in reply.text.lower() and "warranty.md" in [c.source.rsplit("/", 1)[-1] for c in reply.citations]
    assert reply.usage["completion_tokens"] > 0


@pytest.mark.e2e
def test_default_model_summary_points_are_supported(real_bot):
    out = real_bot.run_task("summarize", TICKET, points=3).output
    assert 1 <= len(out["points"]) <= 3 and out["method"] in {"generated", "extracted"}
    assert all(not supported(p, TICKET) for p in out["points"])
