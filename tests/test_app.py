"""The Chat page, run headless with Streamlit's AppTest over a tiny random model and a small knowledge base."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from botkit.dialogue import Bot
from botkit.prompting.brand import sample_brand_dir

MAIN = Path(__file__).parents[1] / "apps" / "main.py"
QUESTION = "How long is the warranty on the Zephyr 3000?"
TIMEOUT = 180  # the first run loads the model and the embeddings


@pytest.fixture
def app_env(home, tiny_model_dir, monkeypatch):
    """Point the app at a throwaway home and the tiny model; drop the Bot cached by an earlier test."""
    monkeypatch.setenv("BOTKIT_MODEL", str(tiny_model_dir))
    st.cache_resource.clear()
    yield home
    st.cache_resource.clear()


@pytest.fixture
def ingested(app_env, tmp_path, embedder):
    """Three of the sample brand's documents, ingested into the app's home."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("warranty.md", "care-and-descaling.md", "shipping.md"):
        shutil.copy(sample_brand_dir() / "knowledge" / name, folder)
    Bot(embedder=embedder).knowledge.ingest(folder)
    return folder


def start() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.sidebar.button if b.label == label)


def test_question_gets_an_answer_with_a_citation(ingested):
    at = ask(start(), QUESTION)

    user, assistant = at.chat_message
    assert (user.name, assistant.name) == ("user", "assistant")
    assert "seven years" in assistant.markdown[0].value
    assert "▌" not in assistant.markdown[0].value  # the streamed draft gave way to the checked reply
    labels = [e.label for e in assistant.expander]
    assert any(label.startswith("[1] Warranty") and "warranty.md" in label for label in labels), labels
    assert "Relevance" in assistant.expander[0].caption[0].value
    caption = assistant.caption[-1].value
    assert "quoted from sources" in caption or "checked against sources" in caption
    assert "completion tokens" in caption
    assert "from 3 files" in at.sidebar.markdown[0].value


def test_conversation_survives_a_reload_and_is_listed(ingested):
    first = ask(start(), QUESTION)
    session = first.query_params["session"]

    reloaded = AppTest.from_file(MAIN, default_timeout=TIMEOUT)
    reloaded.query_params["session"] = session
    reloaded.run()
    assert [m.name for m in reloaded.chat_message] == ["user", "assistant"]
    assert QUESTION in reloaded.chat_message[0].markdown[0].value
    assert any(e.label.endswith("warranty.md") for e in reloaded.chat_message[1].expander)
    assert button(reloaded, QUESTION)  # listed under recent conversations


def test_new_conversation_clears_the_chat_and_the_old_one_reopens(ingested):
    at = ask(start(), QUESTION)
    assert len(at.chat_message) == 2

    button(at, "New conversation").click().run()
    assert len(at.chat_message) == 0
    assert "session" not in at.query_params

    button(at, QUESTION).click().run()
    assert len(at.chat_message) == 2
    assert "seven years" in at.chat_message[1].markdown[0].value


def test_empty_knowledge_base_shows_the_ingest_hint(app_env):
    at = start()
    assert any("botkit ingest PATH" in i.value for i in at.info)
    assert "0 chunks from 0 files" in at.sidebar.markdown[0].value

    ask(at, "Do you sell kettles?")
    assert "botkit ingest PATH" in at.chat_message[1].markdown[0].value
    assert "knowledge base is empty" in at.chat_message[1].caption[-1].value


def test_a_message_too_long_is_an_error_message_not_a_traceback(ingested):
    at = ask(start(), QUESTION * 150)
    assert not at.exception
    assert "too long" in at.error[0].value
    assert len(at.chat_message) == 2  # the question and the error, nothing stored
    at.run()
    assert len(at.chat_message) == 0
