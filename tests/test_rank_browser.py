"""Ranking in a real browser: `streamlit run apps/main.py` driven by Debian's chromium through
Playwright (never `playwright install`): sign in, rank pairs with the buttons and with the keyboard,
then check the rows in SQLite, the leaderboard and the export download."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from botkit.feedback.store import RankingStore

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
PAIRS = 10  # in ana's queue: six new ones and the four zed judged


@pytest.fixture
def seeded(settings):
    """Six v1-vs-v2 pairs, and four v1-vs-v3 pairs zed judged already (v3 is on the leaderboard)."""
    store = RankingStore.open(settings)
    for i in range(6):
        a = store.log_response(f"Question {i}: how long is the warranty?", f"v1 says {i}: two years.", model="v1",
                               sources=[{"source": "warranty.md", "text": "Seven-year warranty.", "score": 0.8}])
        b = store.log_response(f"Question {i}: how long is the warranty?", f"v2 says {i}: seven years.", model="v2")
        store.add_pair(a, b)
    store.add_annotator("zed")
    for i in range(4):
        a = store.log_response(f"Old question {i}", f"v3 old answer {i}", model="v3")
        b = store.log_response(f"Old question {i}", f"v1 old answer {i}", model="v1")
        pair = store.add_pair(a, b)
        v1_side = "a" if store.pair(pair)["a_id"] == b else "b"
        store.record_comparison(pair, "zed", v1_side if i else "tie")
    return store


@pytest.fixture
def server(home, tiny_model_dir, seeded, streamlit_app):
    return streamlit_app({"BOTKIT_HOME": str(home), "BOTKIT_MODEL": str(tiny_model_dir), "BOTKIT_PASSCODE": "kettle"})


def left_answer(page, previous: str = "") -> str:
    """The text shown in the left ("Answer A") column once the rerun has replaced the previous pair:
    a click on a stale pair's button would be lost (its key names the old pair)."""
    column = page.get_by_test_id("stColumn").filter(has_text="Answer A")
    sync_api.expect(column).to_have_count(1, timeout=30_000)
    sync_api.expect(page.get_by_label("Reason (optional)")).to_have_count(1, timeout=30_000)
    if previous:
        sync_api.expect(column).not_to_contain_text(previous, timeout=30_000)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=30_000)  # no rerun running
    return column.inner_text().replace("Answer A", "").strip()


def test_sign_in_and_rank_with_buttons_and_keyboard(server, seeded, chromium, tmp_path):
    expect = sync_api.expect
    judged = []  # (text shown on the left, screen choice)

    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{server.url}/rank")
    page.get_by_label("Your name").fill("ana")
    page.get_by_label("Passcode").fill("teapot")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong passcode.")).to_be_visible(timeout=30_000)
    page.get_by_label("Passcode").fill("kettle")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"0 done · {PAIRS} remaining")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(tmp_path / "rank.png"), full_page=True)

    for n, (label, choice) in enumerate([("A is better", "A"), ("B is better", "B"), ("Tie", "tie")], 1):
        judged.append((left_answer(page, judged[-1][0] if judged else ""), choice))
        page.get_by_role("button", name=label).click()
        expect(page.get_by_text(f"{n} done · {PAIRS - n} remaining")).to_be_visible(timeout=30_000)

    # Typing in the reason box must not fire the shortcuts ("b", "a", "t" are among them).
    left_answer(page, judged[-1][0])
    reason = page.get_by_label("Reason (optional)")
    reason.press_sequentially("bad tone, a bit terse")
    page.get_by_role("heading", name="Rank answers").click()  # leave the box: the reason is kept
    expect(page.get_by_text(f"3 done · {PAIRS - 3} remaining")).to_be_visible()
    for n, (key, choice) in enumerate([("b", "B"), ("a", "A"), ("x", "both-bad")], 4):
        judged.append((left_answer(page, judged[-1][0]), choice))
        page.keyboard.press(key)
        expect(page.get_by_text(f"{n} done · {PAIRS - n} remaining")).to_be_visible(timeout=30_000)

    # Through the sidebar, not page.goto: a page load is a new session, signed out.
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Leaderboard").click()
    # The first visit fits the ratings (bootstrap intervals): slow on a busy 2-core machine.
    expect(page.get_by_text("Pairwise win rates")).to_be_visible(timeout=120_000)
    expect(page.locator("canvas, svg.marks").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)  # let Vega finish drawing before the screenshot
    page.screenshot(path=str(tmp_path / "leaderboard.png"), full_page=True)

    nav.get_by_role("link", name="Data").click()
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Download preferences.jsonl").click()
    exported = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    page.screenshot(path=str(tmp_path / "data.png"), full_page=True)

    rows = {c["a_text"] if c["a_text"] in {t for t, _ in judged} else c["b_text"]: c
            for c in seeded.comparisons(annotator="ana")}
    assert len(rows) == len(judged) == 6
    for left_text, choice in judged:
        row = rows[left_text]
        left = "a" if row["a_text"] == left_text else "b"
        assert row["left"] == left
        expected = {"A": left, "B": {"a": "b", "b": "a"}[left]}.get(choice, choice)
        assert row["verdict"] == expected, (left_text, choice, row)
        assert row["annotator"] == "ana" and row["seconds"] > 0
    assert rows[judged[3][0]]["reason"] == "bad tone, a bit terse"
    assert len(exported) == seeded.export_trl(tmp_path / "check.jsonl")["train"] > 0
    assert {"prompt", "chosen", "rejected", "provenance"} <= set(exported[0])
    assert "Traceback" not in server.log.read_text()
