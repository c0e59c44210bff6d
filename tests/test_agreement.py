"""Agreement figures (Cohen's kappa, Krippendorff's alpha, gold accuracy), checked against hand-worked values."""

from __future__ import annotations

import pytest

from botkit.feedback.agreement import annotator_stats, cohen_kappas, gold_accuracy, krippendorff_alpha


def judged(annotator: str, verdicts, *, start: int = 0, seconds=None, gold=None) -> list[dict]:
    """Comparison dicts for pairs start, start+1, ... (None = not judged)."""
    return [{"pair_id": start + i, "annotator": annotator, "verdict": v,
             "seconds": seconds[i] if seconds else None, "gold": gold[i] if gold else None}
            for i, v in enumerate(verdicts) if v is not None]


def test_cohen_kappa_on_a_two_by_two_table():
    # Ten pairs judged by both:      Yan: a   Yan: b
    #                     Xi: a         4        2      -> Xi said a 6 times, b 4 times
    #                     Xi: b         1        3      -> Yan said a 5 times, b 5 times
    # observed agreement p_o = 7/10; chance p_e = 0.6 * 0.5 + 0.4 * 0.5 = 0.5;
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    xi = ["a"] * 4 + ["a"] * 2 + ["b"] * 1 + ["b"] * 3
    yan = ["a"] * 4 + ["b"] * 2 + ["a"] * 1 + ["b"] * 3
    data = judged("xi", xi) + judged("yan", yan) + judged("zoe", ["tie"], start=50)  # zoe shares nothing
    (row,) = cohen_kappas(data)
    assert (row["annotator_1"], row["annotator_2"], row["n"]) == ("xi", "yan", 10)
    assert row["agreement"] == pytest.approx(0.7)
    assert row["kappa"] == pytest.approx(0.4)


def test_kappa_only_counts_pairs_both_judged_and_is_none_when_undefined():
    data = judged("p", ["a", "a", None, "b"]) + judged("q", ["a", "a", "b", None])
    (row,) = cohen_kappas(data)
    assert row["n"] == 2 and row["agreement"] == 1.0
    assert row["kappa"] is None  # both said "a" throughout: chance agreement is already 1


def test_krippendorff_alpha_on_the_textbook_example():
    # K. Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), section C: four
    # observers, twelve units, values 1-5 with gaps; nominal alpha = 0.743 (published).
    rows = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
            "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
            "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
            "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]}
    data = [c for name, values in rows.items() for c in judged(name, values)]
    assert krippendorff_alpha(data) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_worked_by_hand():
    # Two annotators, four pairs: (a, a), (a, b), (b, b), (b, b). Each pair has m = 2 values and adds
    # 1/(m-1) = 1 per ordered pair of values: o_aa = 2, o_ab = o_ba = 1, o_bb = 4; n_a = 3, n_b = 5,
    # n = 8. alpha = 1 - (n - 1) * (o_ab + o_ba) / (n_a n_b + n_b n_a) = 1 - 7 * 2 / 30 = 0.5333.
    # A third annotator's lone judgement of a fifth pair is unpairable and must change nothing.
    data = judged("p", ["a", "a", "b", "b"]) + judged("q", ["a", "b", "b", "b"]) + judged("r", ["tie"], start=4)
    assert krippendorff_alpha(data) == pytest.approx(1 - 14 / 30)
    assert krippendorff_alpha(judged("p", ["a", "b"]) + judged("q", ["a", "b"])) == 1.0
    assert krippendorff_alpha(judged("p", ["a"])) is None


def test_gold_accuracy_and_annotator_stats():
    gold = ["a", "b", None, "tie"]
    data = (judged("p", ["a", "b", "tie", "a"], seconds=[4.0, 10.0, 6.0, None], gold=gold)
            + judged("q", ["b", "b", "both-bad", None], seconds=[3.0, 5.0, 7.0], gold=gold))
    assert gold_accuracy(data) == {"p": {"gold": 3, "correct": 2, "accuracy": pytest.approx(2 / 3)},
                                   "q": {"gold": 2, "correct": 1, "accuracy": 0.5}}
    p, q = annotator_stats(data)
    assert p == {"annotator": "p", "comparisons": 4, "median_seconds": 6.0, "a": 2, "b": 1, "tie": 1,
                 "both-bad": 0, "gold": 3, "gold_accuracy": pytest.approx(2 / 3)}
    assert (q["comparisons"], q["median_seconds"], q["both-bad"]) == (3, 5.0, 1)
    no_gold = annotator_stats(judged("r", ["a"]))
    assert no_gold[0]["gold_accuracy"] is None and no_gold[0]["median_seconds"] is None
