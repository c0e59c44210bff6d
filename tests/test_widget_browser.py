"""The support widget (examples/support-widget) in a real browser against a live `botkit serve --widget`:
a streamed answer, its citations and thumbs feedback that lands in the ranking store. Debian's
chromium through Playwright (never `playwright install`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_server import LiveServer, prepare_home, store_of

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium: install Debian's chromium to run browser tests", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def live(tmp_path, tiny_model_dir, embedder):
    keys = prepare_home(tmp_path / "home", embedder, tmp_path / "docs")
    server = LiveServer(tmp_path / "home", tiny_model_dir, tmp_path / "serve.log", "--widget")
    server.keys = keys
    try:
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text()


def test_widget_streams_an_answer_shows_citations_and_sends_thumbs(live, tmp_path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{live.url}/widget/?key={live.keys['support-desk']}")
            question = page.get_by_label("Your question")
            question.fill("How long is the warranty on the Zephyr 3000?")
            question.press("Enter")

            answer = page.locator("#bk-log li.bot").first
            sync_api.expect(answer.locator(".text")).to_contain_text("seven years", timeout=60_000)
            sources = answer.get_by_label("Sources")
            sync_api.expect(sources).to_contain_text("Warranty — warranty.md")
            answer.get_by_role("button", name="Helpful", exact=True).click()
            sync_api.expect(answer).to_contain_text("Thanks for your feedback.")
            page.screenshot(path=str(tmp_path / "widget.png"), full_page=True)
            response_id = answer.get_attribute("data-response-id")

            # A follow-up continues the same session.
            question.fill("And the Zephyr Mini?")
            question.press("Enter")
            sync_api.expect(page.locator("#bk-log li.bot").nth(1).get_by_role("button", name="Helpful", exact=True)).to_be_visible(
                timeout=60_000)
        finally:
            browser.close()
    store = store_of(live)
    assert [(r["annotator"], r["value"]) for r in store.db.query(
        "SELECT annotator, value FROM ratings WHERE response_id = ?", [response_id])] == [("support-desk", 1)]
    assert store.response(response_id)["origin"] == "api"
