"""The sign-in gate and the Rank page, run headless with Streamlit's AppTest over a seeded ranking store."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from botkit.feedback.store import RankingStore

MAIN = Path(__file__).parents[1] / "apps" / "main.py"
SOURCE = {"source": "warranty.md", "text": "Every Zephyr 3000 comes with a seven-year warranty.", "score": 0.81}


def seed_pairs(store: RankingStore, n: int, *, models=("v1", "v2")) -> list[int]:
    """n pairs, each a v1 answer against a v2 answer to its own question."""
    pairs = []
    for i in range(n):
        a = store.log_response(f"Question {i}?", f"First answer {i}.", model=models[0], sources=[SOURCE])
        b = store.log_response(f"Question {i}?", f"Second answer {i}.", model=models[1])
        pairs.append(store.add_pair(a, b))
    return pairs


@pytest.fixture
def store(settings):
    return RankingStore.open(settings)


def open_page(page: str, **user) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=30)
    if user:
        at.user = user
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def sign_in(at: AppTest, name: str, passcode: str | None = None) -> AppTest:
    fields = {t.label: t for t in at.text_input}
    fields["Your name"].set_value(name)
    if passcode is not None:
        fields["Passcode"].set_value(passcode)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def shown_answers(at: AppTest) -> tuple[str, str]:
    texts = [m.value for m in at.markdown]
    return texts[texts.index("**Answer A**") + 1], texts[texts.index("**Answer B**") + 1]


def test_rank_is_behind_sign_in_and_a_wrong_passcode_keeps_it_shut(store, monkeypatch):
    monkeypatch.setenv("BOTKIT_PASSCODE", "kettle")
    seed_pairs(store, 2)
    at = open_page("rank.py")
    assert [t.label for t in at.text_input] == ["Your name", "Passcode"]
    assert not [b for b in at.button if b.label == "A is better"]  # nothing of the queue before signing in

    sign_in(at, "ana", "teapot")
    assert at.error[0].value == "Wrong passcode."
    assert "ana" not in store.annotators()

    sign_in(at, "ana", "kettle")
    assert "ana" in store.annotators()
    assert "Signed in as **ana**" in at.sidebar.caption[0].value
    assert [b.label for b in at.button][:4] == ["A is better", "B is better", "Tie", "Both bad"]

    click(at, "Sign out")
    assert [t.label for t in at.text_input] == ["Your name", "Passcode"]


def test_without_a_passcode_a_name_is_enough_and_the_page_says_so(store):
    at = open_page("rank.py")
    assert [t.label for t in at.text_input] == ["Your name"]
    assert "No passcode is configured" in at.caption[0].value
    sign_in(at, "  ")  # a blank name is refused
    assert "non-empty name" in at.error[0].value
    sign_in(at, "ben")
    assert "No pairs to rank yet" in at.info[0].value and not at.success  # signed in, nothing queued at all


def test_an_identity_provider_replaces_the_passcode_form(store):
    at = open_page("rank.py", is_logged_in=True, email="cho@example.com", name="Cho")
    assert not at.text_input or at.text_input[0].label != "Your name"
    assert "cho@example.com" in store.annotators()
    assert "Signed in as **cho@example.com**" in at.sidebar.caption[0].value


def test_a_verdict_is_recorded_against_the_pair_not_the_screen_side(store):
    seed_pairs(store, 3)
    at = sign_in(open_page("rank.py"), "ana")
    assert "0 done · 3 remaining" in at.get("progress")[0].proto.text
    assert at.expander[0].label == "Retrieved sources (1)"
    left, right = shown_answers(at)

    next(t for t in at.text_input if t.label == "Reason (optional)").set_value("cites the warranty")
    click(at, "B is better")  # the answer shown on the right
    (row,) = store.comparisons(annotator="ana")
    picked = "a" if row["a_text"] == right else "b"
    assert row["verdict"] == picked and row["left"] != picked  # the right side won, and it was not on the left
    assert {row["a_text"], row["b_text"]} == {left, right}
    assert row["reason"] == "cites the warranty"
    assert row["seconds"] is not None and row["seconds"] >= 0
    assert "1 done · 2 remaining" in at.get("progress")[0].proto.text

    click(at, "Tie")
    click(at, "Both bad")
    assert sorted(c["verdict"] for c in store.comparisons(annotator="ana")) == sorted([picked, "tie", "both-bad"])
    assert "Nothing left to rank" in at.success[0].value
    assert at.expander[-1].label == "Your judgements (3)"


def test_skip_shows_another_pair_and_others_judgements_stay_hidden(store):
    pairs = seed_pairs(store, 2)
    store.add_annotator("zed")
    store.record_comparison(pairs[0], "zed", "a")
    at = sign_in(open_page("rank.py"), "ana")
    first = set(shown_answers(at))  # sides are random: compare the answers, not their order
    assert first == {"First answer 0.", "Second answer 0."}  # zed's pair first: it needs a second verdict
    click(at, "Skip")
    assert set(shown_answers(at)) == {"First answer 1.", "Second answer 1."}
    assert not store.comparisons(annotator="ana")  # a skip records nothing
    assert not [e for e in at.expander if e.label.startswith("Your judgements")]  # zed's verdict is not ana's


def test_a_planted_image_is_never_rendered_on_the_rank_page(store):
    image = "![x](https://tracker.example/pixel.png)"
    source = {"source": "warranty.md", "text": f"Seven years. {image} **Bold** claims.", "score": 0.8}
    a = store.log_response(f"Warranty? {image}", f"Seven years. {image}", model="v1", sources=[source])
    b = store.log_response(f"Warranty? {image}", "Two years.", model="v2")
    store.add_pair(a, b)
    at = sign_in(open_page("rank.py"), "ana")
    shown = " ".join(m.value for m in at.markdown)
    assert "Seven years." in shown and "Two years." in shown
    assert "pixel.png" not in shown and "![" not in shown
    assert "**[1]** Seven years. Bold claims." in shown  # the source as plain text
