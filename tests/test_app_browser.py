"""The app in a real browser: `streamlit run apps/main.py` served on a free port, driven by Debian's
chromium through Playwright (never `playwright install`)."""

from __future__ import annotations

import re
import shutil

import pytest

from botkit.dialogue import Bot

QUESTION = "How long is the warranty on the Zephyr 3000?"
PRICE_QUESTION = "What is the price of the Morning Set?"
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture
def server(home, tiny_model_dir, tmp_path, embedder, sample_knowledge, streamlit_app):
    """A streamlit server over a home with four sample documents ingested; stopped whatever happens."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("warranty.md", "care-and-descaling.md", "shipping.md", "pricing-and-bundles.md"):
        shutil.copy(sample_knowledge / name, folder)
    Bot(embedder=embedder).knowledge.ingest(folder)
    return streamlit_app({"BOTKIT_HOME": str(home), "BOTKIT_MODEL": str(tiny_model_dir)})


def test_chat_in_a_real_browser(server, chromium, tmp_path):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url)
    # The first page load waits for the model and the embeddings.
    chat_input = page.get_by_placeholder("Ask Kettlebrook a question")
    chat_input.wait_for(timeout=120_000)
    sync_api.expect(page.get_by_text("from 4 files")).to_be_visible()

    chat_input.fill(QUESTION)
    chat_input.press("Enter")

    messages = page.get_by_test_id("stChatMessage")
    sync_api.expect(messages).to_have_count(2, timeout=120_000)
    answer = messages.nth(1)
    sync_api.expect(answer).to_contain_text("seven years", timeout=120_000)
    # The citation names the document's title, the section the sentence sits in, and the file.
    citation = answer.get_by_text(re.compile(r"^\[1\] Warranty › .+ · warranty\.md$"))
    sync_api.expect(citation).to_be_visible()
    sync_api.expect(answer).not_to_contain_text("▌")  # the streamed draft gave way to the reply
    sync_api.expect(answer).to_contain_text("completion tokens")

    citation.click()
    sync_api.expect(answer.get_by_text("Relevance")).to_be_visible()
    # The sidebar lists the conversation just started.
    sidebar = page.get_by_test_id("stSidebar")
    sync_api.expect(sidebar.get_by_role("button", name=QUESTION)).to_be_visible()
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)

    # Two prices in one answer show as written, not as a Markdown math formula between the dollar signs.
    chat_input.fill(PRICE_QUESTION)
    chat_input.press("Enter")
    sync_api.expect(messages).to_have_count(4, timeout=120_000)
    sync_api.expect(messages.nth(3)).to_contain_text("for $189, a saving of $19", timeout=120_000)
    sync_api.expect(messages.nth(3).locator(".katex")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "chat-2.png"), full_page=True)
    assert "Traceback" not in server.log.read_text()


@pytest.fixture
def signin_server(home, tiny_model_dir, streamlit_app):
    """The app with a passcode over a store whose admin is boss (so ana, signing in, is not one)."""
    from botkit.config import load_settings
    from botkit.feedback.store import RankingStore

    store = RankingStore.open(load_settings(home=home))
    store.set_admin(store.add_annotator("boss"))
    return streamlit_app({"BOTKIT_HOME": str(home), "BOTKIT_MODEL": str(tiny_model_dir), "BOTKIT_PASSCODE": "kettle"})


def test_sign_in_survives_a_reload_and_a_non_admin_cannot_train(signin_server, chromium, home, tmp_path):
    expect = sync_api.expect
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{signin_server.url}/rank")
    expect(page.get_by_text("Sign in to rank answers")).to_be_visible(timeout=60_000)
    page.get_by_label("Your name").fill("ana")
    page.get_by_label("Passcode").fill("kettle")
    page.get_by_role("button", name="Sign in").click()
    signed_in = page.get_by_test_id("stSidebar").get_by_text("Signed in as ana")
    expect(signed_in).to_be_visible(timeout=30_000)
    page.wait_for_function("document.cookie.includes('botkit_signin=')", timeout=10_000)

    page.reload()  # a new Streamlit session: only the cookie remembers ana
    expect(signed_in).to_be_visible(timeout=30_000)
    expect(page.get_by_label("Your name")).to_have_count(0)
    (cookie,) = [c for c in context.cookies() if c["name"] == "botkit_signin"]
    assert cookie["sameSite"] == "Strict" and cookie["expires"] > 0  # kept when the browser restarts
    secret = (home / "cookie-secret").read_text()
    assert (home / "cookie-secret").stat().st_mode & 0o777 == 0o600
    for text in (page.content(), signin_server.log.read_text()):
        assert secret not in text and "kettle" not in text and cookie["value"] not in text

    page.goto(f"{signin_server.url}/train")  # a page load too: still ana, who is no admin
    expect(page.get_by_text("The Train page is for admins only")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Start a run")).to_have_count(0)
    expect(page.get_by_role("button", name="Promote")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("Sign in to train and promote models")).to_be_visible(timeout=30_000)
    page.reload()
    expect(page.get_by_text("Sign in to train and promote models")).to_be_visible(timeout=30_000)
    assert not [c for c in context.cookies() if c["name"] == "botkit_signin" and c["value"]]
    page.screenshot(path=str(tmp_path / "signed-out.png"), full_page=True)
    assert "Traceback" not in signin_server.log.read_text()
