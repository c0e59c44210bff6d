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


# Sign-in and roles (apps/signin.py) -------------------------------------------------------------


@pytest.fixture
def store(settings):
    from botkit.feedback.store import RankingStore

    return RankingStore.open(settings)


def open_page(page: str, annotator: str | None = None) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    if annotator:
        at.session_state["annotator"] = annotator  # signed in earlier in this browser session
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, name: str) -> AppTest:
    next(t for t in at.text_input if t.label == "Your name").set_value(name)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    return at


def scripts(at: AppTest) -> str:
    return " ".join(h.proto.body for h in at.get("html"))


def judged(store, annotator: str = "ana") -> None:
    """One pair with annotator's verdict, so the Data page has something to show and export."""
    store.add_annotator(annotator)
    a = store.log_response("How long is the warranty?", "Two years.", model="v1")
    b = store.log_response("How long is the warranty?", "Seven years.", model="v2")
    store.record_comparison(store.add_pair(a, b), annotator, "b")


@pytest.mark.parametrize(("page", "wording"), [("rank.py", "Sign in to rank answers"),
                                               ("train.py", "Sign in to train and promote models"),
                                               ("data.py", "Sign in to see the ranking data")])
def test_each_page_asks_to_sign_in_in_its_own_words(settings, page, wording):
    at = open_page(page)
    assert [s.value for s in at.subheader] == [wording]
    assert not at.title  # nothing of the page itself


def test_signing_in_sets_the_cookie_and_signing_out_clears_it(store):
    at = sign_in(open_page("rank.py"), "ana")
    assert "Signed in as **ana**" in at.sidebar.caption[0].value
    assert "botkit_signin=" in scripts(at) and "Max-Age=1209600" in scripts(at)  # 14 days

    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert "botkit_signin=; Max-Age=0" in scripts(at)
    assert [s.value for s in at.subheader] == ["Sign in to rank answers"]


def test_the_first_annotator_to_sign_in_is_the_admin_and_the_next_is_not(store):
    store.add_annotator("import")  # added by `botkit feedback import`, never signed in: no admin
    sign_in(open_page("rank.py"), "ana")
    sign_in(open_page("rank.py"), "ben")
    assert store.admins() == ["ana"]

    at = open_page("train.py", "ana")
    assert [t.value for t in at.title] == ["Train"]
    assert "Signed in as **ana** · admin" in at.sidebar.caption[0].value


def test_a_non_admin_sees_one_line_instead_of_the_train_page(store):
    store.set_admin(store.add_annotator("boss"))
    at = open_page("train.py", "ben")
    assert [i.value for i in at.info] == [
        "The Train page is for admins only (you are signed in as ben). An admin can make you one: "
        "`botkit feedback annotators add NAME --admin`."]
    assert not at.title and not [b for b in at.button if b.label in ("Promote", "Roll back", "Start training")]


def test_the_admins_setting_names_admins_and_no_first_comer_becomes_one(store, monkeypatch):
    monkeypatch.setenv("BOTKIT_ADMINS", '["ben"]')
    assert not open_page("train.py", "ana").title
    assert [t.value for t in open_page("train.py", "ben").title] == ["Train"]
    assert store.admins() == []


def test_exports_on_the_data_page_are_for_admins(store):
    store.set_admin(store.add_annotator("boss"))
    judged(store, "ana")
    at = open_page("data.py", "ana")
    assert at.title[0].value == "Data" and not at.get("download_button")
    assert any(i.value.startswith("Exporting rankings is for admins only") for i in at.info)

    at = open_page("data.py", "boss")
    assert len(at.get("download_button")) == 1


def test_the_data_page_shows_the_both_bad_share_per_source_of_pairs(store):
    store.add_annotator("ana")
    for n, (origin, verdict) in enumerate([("generate", "both-bad"), ("generate", "a"), ("generate", "both-bad"),
                                           ("generate", "b"), ("compare", "a")]):
        a = store.log_response(f"Question {n}?", "Two years.", model="v1")
        b = store.log_response(f"Question {n}?", "Seven years.", model="v2")
        store.record_comparison(store.add_pair(a, b, origin=origin), "ana", verdict)
    at = open_page("data.py", "ana")
    table = next(d for d in at.dataframe if "both_bad_share" in d.value.columns).value
    shares = dict(zip(table["origin"], table["both_bad_share"]))
    assert shares == {"generated (feedback generate, eval compare)": 0.5, "Compare in the chat": 0.0}


def test_an_admin_adds_an_agreed_winner_to_the_few_shot_examples_from_the_data_page(store):
    store.set_admin(store.add_annotator("boss"))
    store.add_annotator("ana")
    a = store.log_response("How long is the warranty?", "Seven years from the date of purchase.", model="v1")
    b = store.log_response("How long is the warranty?", "Two years.", model="v2")
    pair = store.add_pair(a, b)
    for name in ("boss", "ana"):
        store.record_comparison(pair, name, "a" if a < b else "b")
    at = open_page("data.py", "boss")
    click = next(b for b in at.button if b.label == "Add them to the few-shot examples")
    click.click().run()
    assert not at.exception, at.exception
    assert "1 few-shot example(s) added" in at.success[0].value
    from botkit.prompting.fewshot import added_examples

    assert added_examples(store.db) == [{"input": "How long is the warranty?",
                                         "output": "Seven years from the date of purchase."}]


def test_the_cli_makes_an_annotator_admin_and_takes_it_back(store):
    import json

    from typer.testing import CliRunner

    from botkit.cli import app

    store.set_admin(store.add_annotator("boss"))
    assert not open_page("train.py", "ben").title
    result = CliRunner().invoke(app, ["feedback", "annotators", "add", "ben", "--admin", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"annotator": "ben", "admin": True}
    assert [t.value for t in open_page("train.py", "ben").title] == ["Train"]

    CliRunner().invoke(app, ["feedback", "annotators", "add", "ben", "--no-admin"])
    assert not open_page("train.py", "ben").title
    listed = CliRunner().invoke(app, ["feedback", "annotators", "list", "--json"])
    assert json.loads(listed.stdout) == [{"annotator": "ben", "admin": False}, {"annotator": "boss", "admin": True}]
