"""The chat loop behind `botkit chat`, errbot style: push messages in, read what the user would see,
on the tiny random model over two of the sample brand's documents."""

from __future__ import annotations

import shutil

import pytest

from botkit.prompting.brand import sample_brand_dir
from botkit.repl import chat_loop

SAMPLE_KNOWLEDGE = sample_brand_dir() / "knowledge"


@pytest.fixture(scope="module")
def bot(tmp_path_factory, tiny_engine, embedder):
    """One bot for the module (each test chats in its own session): ingesting takes seconds."""
    from botkit.config import load_settings
    from botkit.dialogue import Bot

    home, docs = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("docs")
    for name in ("warranty.md", "shipping.md"):
        shutil.copy(SAMPLE_KNOWLEDGE / name, docs)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BOTKIT_HOME", str(home))
        env.delenv("BOTKIT_CONFIG", raising=False)
        bot = Bot.from_config(load_settings(), engine=tiny_engine, embedder=embedder)
        bot.knowledge.ingest(docs)
        yield bot


@pytest.fixture
def converse(bot):
    """`converse(*messages)` runs the chat loop on `messages` and returns (what was shown, the
    messages it read, the session id it ended in)."""

    def run(*messages):
        inbox, read, shown = list(messages), [], []

        def next_message():
            if not inbox:
                return None  # the user pressed Ctrl-D
            read.append(inbox.pop(0))
            return read[-1]

        session = chat_loop(bot, next_message, shown.append)
        return shown, read, session

    return run


def kinds(shown, kind):
    return [s for s in shown if s.kind == kind]


def test_a_question_streams_then_shows_the_checked_answer_with_its_sources(converse, bot):
    shown, _, session = converse("How long is the warranty on the Zephyr 3000?", "/sources")
    assert shown[0].kind == "greeting" and bot.brand.name in shown[0].text
    reply_at = next(i for i, s in enumerate(shown) if s.kind == "reply")
    assert any(s.kind == "chunk" for s in shown[:reply_at])  # pieces came before the answer
    reply = shown[reply_at].reply
    assert shown[reply_at].text == reply.text and reply.citations  # a quote of the warranty, cited
    sources = kinds(shown[reply_at:], "source")
    assert len(sources) == len(reply.citations) and "warranty.md" in sources[0].text
    assert reply.citations[0].text in sources[0].text
    turns = bot.sessions.history(session)
    assert [m.role for m in turns] == ["user", "assistant"] and turns[1].content == reply.text


def test_help_lists_the_chat_commands_and_every_task(converse, bot):
    shown, _, _ = converse("/help")
    lines = [s.text for s in kinds(shown, "help")]
    assert any(line.startswith("/reset") for line in lines) and any(line.startswith("/sources") for line in lines)
    for name in bot.router.tasks:
        assert any(line.startswith(f"/{name}") for line in lines), name
    assert any(line.startswith("/subject_lines or /subject ") for line in lines)


def test_reset_starts_a_new_conversation_that_forgets_the_sources(converse, bot):
    shown, _, session = converse("How much is express shipping?", "/reset", "/sources")
    assert [s.text for s in kinds(shown, "notice")] == ["New conversation.", "The last answer cited no sources."]
    assert bot.sessions.history(session) == []  # the loop ended in the new, empty session


def test_a_mistake_is_one_error_line_and_the_chat_goes_on(converse):
    shown, _, _ = converse("/bogus", "   ", "How much is express shipping?")
    errors = kinds(shown, "error")
    assert len(errors) == 1 and errors[0].text.startswith("unknown command /bogus")
    assert "\n" not in errors[0].text
    assert kinds(shown, "reply")  # the next question is still answered


def test_quit_stops_reading(converse):
    shown, read, _ = converse("/quit", "How much is express shipping?")
    assert read == ["/quit"] and not kinds(shown, "reply")
