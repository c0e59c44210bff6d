"""The Leaderboard and Data pages, run headless with Streamlit's AppTest over a seeded ranking store."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from botkit.feedback.store import RankingStore

MAIN = Path(__file__).parents[1] / "apps" / "main.py"


@pytest.fixture
def store(settings):
    """v2 beats v1 in 4 chat pairs of 5 (ana and ben both judge them), v1 beats v3 in 3 subject-line pairs."""
    store = RankingStore.open(settings)
    for name in ("ana", "ben"):
        store.add_annotator(name)
    for i in range(5):
        a = store.log_response(f"Question {i}?", f"Old answer {i}.", model="v1")
        b = store.log_response(f"Question {i}?", f"New answer {i}.", model="v2")
        pair = store.add_pair(a, b, gold="b" if i == 0 else None)
        new_side = "a" if store.pair(pair)["a_id"] == b else "b"
        old_side = {"a": "b", "b": "a"}[new_side]
        store.record_comparison(pair, "ana", new_side if i < 4 else old_side, seconds=4.0 + i)
        store.record_comparison(pair, "ben", new_side if i < 3 else "tie", seconds=10.0)
    for i in range(3):
        a = store.log_response(f"Spring sale {i}", f"Line one {i}", model="v1", plugin="subject_lines")
        b = store.log_response(f"Spring sale {i}", f"Line two {i}", model="v3", plugin="subject_lines")
        pair = store.add_pair(a, b)
        store.record_comparison(pair, "ana", "a" if store.pair(pair)["a_id"] == a else "b")
    return store


def run(page: str, annotator: str | None = None) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    if annotator:
        at.session_state["annotator"] = annotator
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, n: int = 0):
    return at.dataframe[n].value


def test_leaderboard_ranks_models_with_intervals_and_filters_per_plugin(store):
    at = run("leaderboard.py")
    board = table(at)
    assert board["model"].tolist() == ["v2", "v1", "v3"]
    assert (board["lower"] <= board["rating"]).all() and (board["rating"] <= board["upper"]).all()
    assert board["rating"].mean() == pytest.approx(1000)
    assert len(at.get("vega_lite_chart")) == 2  # the ratings with error bars and the win-rate heatmap
    assert "13 comparisons" in at.caption[0].value

    at.selectbox[0].select("subject_lines").run()
    board = table(at)
    assert board["model"].tolist() == ["v1", "v3"]
    assert board.set_index("model").loc["v1", "wins"] == 3
    assert "3 comparisons" in at.caption[0].value


def test_leaderboard_without_comparisons_says_how_to_get_some(settings):
    at = run("leaderboard.py")
    assert "Rank page" in at.info[0].value
    assert not at.get("vega_lite_chart")


def test_data_page_shows_annotators_agreement_and_gold(store):
    assert run("data.py").subheader[0].value.startswith("Sign in")  # behind the sign-in gate

    at = run("data.py", annotator="ana")
    stats = table(at).set_index("annotator")
    assert stats.loc["ana", "comparisons"] == 8 and stats.loc["ben", "comparisons"] == 5
    assert stats.loc["ana", "median_seconds"] == pytest.approx(6.0)  # 4..8 s on the chat pairs, none on the rest
    assert stats.loc["ben", "tie"] == 2
    assert stats.loc["ana", "gold_accuracy"] == 1.0  # the gold pair says v2, as ana did

    (kappa,) = table(at, 1).to_dict("records")
    # 5 shared pairs: ana says new,new,new,new,old; ben new,new,new,tie,tie -> 3 of 5 agree.
    assert (kappa["annotator_1"], kappa["annotator_2"], kappa["n"]) == ("ana", "ben", 5)
    assert kappa["agreement"] == pytest.approx(0.6)
    assert at.metric[0].label.startswith("Krippendorff's alpha")
    assert at.metric[0].value != "n/a"
    assert [b.label for b in at.get("download_button")] == ["Download preferences.jsonl"]
