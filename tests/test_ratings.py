"""Bradley-Terry ratings, bootstrap intervals and win rates, checked against values worked by hand."""

from __future__ import annotations

import math

import pytest

from botkit.feedback.ratings import bradley_terry, leaderboard, win_rates


def comparisons(*specs: tuple[str, str, str, int]) -> list[dict]:
    """(a_model, b_model, verdict, how many times) -> comparison dicts as the store returns them."""
    rows = []
    for a, b, verdict, times in specs:
        rows += [{"a_model": a, "b_model": b, "verdict": verdict, "annotator": "ann", "pair_id": len(rows) + i}
                 for i in range(times)]
    return rows


def test_symmetric_results_give_equal_ratings():
    # v1 beats v2 twice, v2 beats v1 twice, one tie: by symmetry the likelihood is maximised at
    # beta_1 = beta_2, and ratings are centred on 1000, so both must be exactly 1000.
    data = comparisons(("v1", "v2", "a", 2), ("v1", "v2", "b", 1), ("v2", "v1", "a", 1), ("v1", "v2", "tie", 1))
    for prior in (0, 0.1):
        assert bradley_terry(data, prior=prior) == pytest.approx({"v1": 1000, "v2": 1000}, abs=1e-6)


def test_three_wins_in_four_is_a_190_point_gap():
    # Maximum likelihood for two models: P(v2 beats v1) = 3/4 = sigmoid(d), so d = ln 3.
    # On the scale 400/ln10 * beta the gap is 400 * log10(3) = 190.85, split evenly around 1000:
    # v2 = 1095.42, v1 = 904.58.
    data = comparisons(("v1", "v2", "b", 3), ("v1", "v2", "a", 1))
    ratings = bradley_terry(data, prior=0)
    assert ratings["v2"] == pytest.approx(1000 + 200 * math.log10(3), abs=0.01)
    assert ratings["v1"] == pytest.approx(1000 - 200 * math.log10(3), abs=0.01)


def test_ties_count_half_and_both_bad_is_ignored():
    # 1 win + 2 ties = 2 points of 3 for v2: P = 2/3 = sigmoid(d), d = ln 2, gap 400 * log10(2) = 120.41.
    # The both-bad verdicts and the v1-vs-v1 comparison must not move anything.
    data = comparisons(("v1", "v2", "b", 1), ("v2", "v1", "tie", 2), ("v1", "v2", "both-bad", 5), ("v1", "v1", "a", 3))
    ratings = bradley_terry(data, prior=0)
    assert ratings["v2"] - ratings["v1"] == pytest.approx(400 * math.log10(2), abs=0.01)


def test_known_ordering_and_win_rates():
    # A chain: strong beats mid 4-1, mid beats weak 4-1, strong beats weak 5-0.
    data = comparisons(("strong", "mid", "a", 4), ("mid", "strong", "a", 1),
                       ("mid", "weak", "a", 4), ("weak", "mid", "a", 1), ("weak", "strong", "b", 5))
    board = leaderboard(data, rounds=50)
    assert [row["model"] for row in board] == ["strong", "mid", "weak"]
    assert board[0]["wins"] == 9 and board[0]["losses"] == 1 and board[0]["comparisons"] == 10
    assert sum(row["rating"] for row in board) / 3 == pytest.approx(1000)

    rates = {(r["model"], r["opponent"]): (r["win_rate"], r["n"]) for r in win_rates(data)}
    assert rates["strong", "mid"] == (0.8, 5)
    assert rates["mid", "strong"] == pytest.approx((0.2, 5))
    assert rates["mid", "weak"] == (0.8, 5)
    assert rates["strong", "weak"] == (1.0, 5) and rates["weak", "strong"] == (0.0, 5)
    assert len(rates) == 6


def test_a_model_that_always_won_still_gets_a_finite_rating():
    ratings = bradley_terry(comparisons(("v1", "v2", "a", 3)))
    assert 1000 < ratings["v1"] < 1400 and ratings["v2"] == pytest.approx(2000 - ratings["v1"])


def test_bootstrap_interval_contains_the_estimate_and_narrows_with_more_data():
    few = comparisons(("v1", "v2", "a", 6), ("v1", "v2", "b", 4))
    many = few * 10  # the same 60:40 split, ten times the evidence
    small, large = leaderboard(few, seed=1), leaderboard(many, seed=1)
    for board in (small, large):
        for row in board:
            assert row["lower"] <= row["rating"] <= row["upper"]
    def width(board):
        return board[0]["upper"] - board[0]["lower"]

    assert width(large) < width(small) / 2  # ~1/sqrt(10) in theory
    assert leaderboard(few, seed=1) == small  # seeded: the same data gives the same intervals


def test_no_comparisons_and_a_single_model():
    assert leaderboard([]) == []
    assert bradley_terry(comparisons(("v1", "v2", "both-bad", 2))) == {}
    assert win_rates([]) == []
