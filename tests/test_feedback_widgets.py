"""Feedback on the Chat page (thumbs with a reason, "Compare"), run with AppTest over the tiny random
model and a small knowledge base; the rows are checked in the ranking store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from botkit.dialogue import Bot
from botkit.feedback.store import RankingStore
from botkit.prompting.brand import sample_brand_dir

MAIN = Path(__file__).parents[1] / "apps" / "main.py"
QUESTION = "How long is the warranty on the Zephyr 3000?"


@pytest.fixture
def app_home(home, settings, tiny_model_dir, tmp_path, embedder, monkeypatch):
    monkeypatch.setenv("BOTKIT_MODEL", str(tiny_model_dir))
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(sample_brand_dir() / "knowledge" / "warranty.md", folder)
    Bot(embedder=embedder).knowledge.ingest(folder)
    st.cache_resource.clear()
    yield RankingStore.open(settings)
    st.cache_resource.clear()


def asked() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=180).run()
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception, at.exception
    return at


def test_every_answer_is_logged_and_thumbs_need_a_signed_in_annotator(app_home):
    at = asked()
    answer = at.chat_message[1]
    (logged,) = list(app_home.db.query("SELECT r.text, r.origin, p.text AS prompt, p.sources FROM responses r"
                                       " JOIN prompts p ON p.id = r.prompt_id"))
    assert logged["prompt"] == QUESTION and logged["origin"] == "chat"
    assert logged["text"] == answer.markdown[0].value
    assert "warranty.md" in logged["sources"]  # the citations, so raters can judge grounding
    assert answer.get("feedback")[0].proto.disabled
    assert "Sign in on the Rank page" in answer.markdown[-1].value


def test_thumb_down_with_a_reason_is_saved_for_the_annotator(app_home):
    at = asked()
    at.session_state["annotator"] = "ana"  # signed in, never visited Rank: the thumb registers ana
    at.run()
    answer = at.chat_message[1]
    why = answer.text_input[0]
    why.set_value("does not say how many years").run()
    assert not list(app_home.db.query("SELECT * FROM ratings"))  # a reason alone waits for the thumb
    at.chat_message[1].get("feedback")[0].set_value(0).run()
    (rating,) = list(app_home.db.query("SELECT annotator, value, reason FROM ratings"))
    assert rating == {"annotator": "ana", "value": -1, "reason": "does not say how many years"}

    at.chat_message[1].get("feedback")[0].set_value(1).run()  # changing one's mind replaces the thumb
    assert [r["value"] for r in app_home.db.query("SELECT value FROM ratings")] == [1]


def test_compare_is_offered_only_for_answers_in_the_models_own_checked_words(app_home):
    at = asked()
    answer = at.chat_message[1]
    # The random model's draft fails the grounding check: the answer quotes the warranty page, and
    # another sample would quote it word for word, so there is no pair worth ranking.
    assert answer.caption[-1].value.split(" · ")[1] == "quoted from sources"
    assert not [b for b in answer.button if b.label == "Compare"]


def test_compare_queues_only_a_pair_worth_ranking(app_home, embedder):
    from botkit.apps.feedback_widgets import compare
    from botkit.testing import FakeEngine

    said = ["The Zephyr 3000 is covered for seven years from the date of purchase.",
            "The Zephyr 3000 is covered for seven years from the date of purchase!",  # one mark apart: not queued
            "The Zephyr 3000 electric kettle is covered for seven years, from the date you bought it."]
    bot = Bot(engine=FakeEngine(said), embedder=embedder)
    first = bot.answer(QUESTION)
    assert first.grounding == "generated"
    result = compare(bot, QUESTION, first.text, first.as_dict())
    (pair,) = list(app_home.db.query("SELECT * FROM pairs"))
    assert pair["origin"] == "compare" and result["pair_id"] == pair["id"]
    assert "you bought it" in result["text"]  # the near-identical second sample was passed over
    # Both answers are stored with the chat the model saw and its own words, for training to export.
    for side in ("a_id", "b_id"):
        (logged,) = list(app_home.db.query("SELECT engine_messages, output FROM responses WHERE id = ?", [pair[side]]))
        chat = json.loads(logged["engine_messages"])
        assert chat[0]["role"] == "system" and chat[-1]["role"] == "user" and QUESTION in chat[-1]["content"]
        assert logged["output"] in said

    app_home.add_annotator("ana")
    queued = app_home.next_pair("ana")
    assert queued["pair_id"] == pair["id"] and queued["prompt"] == QUESTION
    bot = Bot(engine=FakeEngine(said[:2]), embedder=embedder)
    first = bot.answer(QUESTION)
    assert compare(bot, QUESTION, first.text, first.as_dict()) == {"skipped": "near-identical"}
