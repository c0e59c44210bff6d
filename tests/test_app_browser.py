"""The app in a real browser: `streamlit run apps/main.py` served on a free port, driven by Debian's
chromium through Playwright (never `playwright install`)."""

from __future__ import annotations

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
    citation = answer.get_by_text("[1] Warranty · warranty.md")
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
