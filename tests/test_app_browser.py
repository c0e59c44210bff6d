"""The app in a real browser: `streamlit run apps/main.py` served on a free port, driven by Debian's
chromium through Playwright (never `playwright install`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from botkit.dialogue import Bot
from botkit.prompting.brand import sample_brand_dir

CHROMIUM = Path("/usr/bin/chromium")
MAIN = Path(__file__).parents[1] / "apps" / "main.py"
QUESTION = "How long is the warranty on the Zephyr 3000?"
PRICE_QUESTION = "What is the price of the Morning Set?"

if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium: install Debian's chromium (apt-get install chromium) to run browser tests",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not answer on {url}/_stcore/health within {timeout}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def streamlit_app(env: dict, tmp_path: Path):
    """`streamlit run` of the app on a free port with `env` added; yields (url, log path)."""
    port = free_port()
    log = tmp_path / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(MAIN), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, proc, log)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def server(home, tiny_model_dir, tmp_path, embedder):
    """A streamlit server over a home with four sample documents ingested; killed whatever happens."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("warranty.md", "care-and-descaling.md", "shipping.md", "pricing-and-bundles.md"):
        shutil.copy(sample_brand_dir() / "knowledge" / name, folder)
    Bot(embedder=embedder).knowledge.ingest(folder)

    with streamlit_app({"BOTKIT_HOME": str(home), "BOTKIT_MODEL": str(tiny_model_dir)}, tmp_path) as running:
        yield running


def test_chat_in_a_real_browser(server, tmp_path):
    url, log = server

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
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
        finally:
            browser.close()
    assert "Traceback" not in log.read_text()
