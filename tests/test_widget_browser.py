"""The support widget (examples/support-widget) in a real browser against a live `botkit serve --widget`:
a streamed answer and its citations, on a public widget key the page gets from /widget/config (never
from its URL). Debian's chromium through Playwright (never `playwright install`)."""

from __future__ import annotations

import pytest

from botkit.config import load_settings
from botkit.database import open_database
from botkit.feedback.store import RankingStore
from botkit.server.keys import KeyStore

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture
def live(tmp_path, prepare_served_home, botkit_server):
    prepare_served_home(tmp_path / "home", tmp_path / "docs")
    server = botkit_server(tmp_path / "home", tmp_path / "serve.log", "--widget")
    # The page's origin is the server's own; its widget key is made once the port is known.
    KeyStore(open_database(load_settings(home=server.home).database_path)).create("site", "widget",
                                                                                   origins=[server.url])
    yield server
    server.stop()
    assert "Traceback" not in server.log.read_text()


def test_widget_streams_an_answer_with_citations_on_its_public_key(live, chromium, tmp_path):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live.url}/widget/")
    question = page.get_by_label("Your question")
    question.fill("How long is the warranty on the Zephyr 3000?")
    question.press("Enter")

    answer = page.locator("#bk-log li.bot").first
    sync_api.expect(answer.locator(".text")).to_contain_text("seven years", timeout=60_000)
    sources = answer.get_by_label("Sources")
    sync_api.expect(sources).to_contain_text("— warranty.md")  # "Title › section — file"
    page.screenshot(path=str(tmp_path / "widget.png"), full_page=True)
    response_id = answer.get_attribute("data-response-id")
    # A public key cannot write to the ranking store: no thumbs.
    assert answer.get_by_role("button", name="Helpful", exact=True).count() == 0

    # A follow-up continues the same session.
    question.fill("And the Zephyr Mini?")
    question.press("Enter")
    follow_up = page.locator("#bk-log li.bot").nth(1)
    sync_api.expect(follow_up.get_by_label("Sources")).to_be_visible(timeout=60_000)

    store = RankingStore.open(load_settings(home=live.home))
    assert store.response(response_id)["origin"] == "api"
    assert store.db["ratings"].count == 0
