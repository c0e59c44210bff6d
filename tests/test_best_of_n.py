"""Best-of-N: limits and checks enforced, repeats dropped, ranked by the scorer, resampled up to three
rounds, then fewer variants with a note naming the failing checks (never a line cut to fit)."""

from botkit.decoding import DecodingOptions
from botkit.tasks import best_of_n, brand_similarity, first_line, repeats_itself
from botkit.testing import FakeEngine

CHAT = [{"role": "user", "content": "write"}]


def run(engine, keep=2, samples=4, limit=30, scorer=lambda texts: [-len(t) for t in texts], check=None):
    return best_of_n(engine, CHAT, samples=samples, keep=keep, limit=limit, scorer=scorer, decoding=DecodingOptions(),
                     check=check)


def test_drops_long_and_repetitive_candidates_and_ranks_the_rest():
    engine = FakeEngine(["A kettle for years", "tea tea tea tea tea", "x" * 40, "1. \"Simple, steady mornings\""])
    best = run(engine)
    assert [c.text for c in best] == ["A kettle for years", "Simple, steady mornings"]  # shorter scores higher here
    assert len(engine.calls) == 4  # one batch of 4, no regeneration needed


def test_an_over_long_line_is_dropped_not_cut_and_the_result_says_so():
    engine = FakeEngine(["Our kettles are built to last for years and years of tea"])
    best = run(engine, keep=1)
    assert len(engine.calls) == 12  # three rounds of four, then it gives up
    assert list(best) == [] and best.sampled == 1
    assert best.note.startswith("none of the 1 variants asked for passed the checks")
    assert "over the limit (1)" in best.note


def test_resamples_until_enough_pass_the_checks_and_names_the_failing_ones():
    engine = FakeEngine(["The Zephyre kettle", "A kettle for years", "Zephyre, for years", "Tea, steady and simple"])
    misspelled = lambda texts: [["spelling"] if "Zephyre" in t else [] for t in texts]  # noqa: E731
    best = run(engine, keep=2, samples=2, check=misspelled)
    assert [c.text for c in best] == ["A kettle for years", "Tea, steady and simple"]
    assert len(engine.calls) == 4 and best.note == ""  # the second round found the second line
    engine = FakeEngine(["The Zephyre kettle", "A kettle for years"])
    best = run(engine, keep=3, samples=2, check=misspelled)
    assert [c.text for c in best] == ["A kettle for years"]
    assert best.note.startswith("only 1 of 3 variants") and "spelling (1)" in best.note


def test_helpers():
    assert repeats_itself("save big save big save big") and not repeats_itself("Tea at 175°F, coffee at 195°F")
    assert first_line("\n- Subject line: \"Hello there\"\nmore") == "Hello there"


def test_brand_similarity_prefers_on_brand_copy(embedder):
    score = brand_similarity(embedder, ["A kettle you buy once, backed by a seven-year warranty."])
    on, off = score(["A well-made kettle that lasts for years", "Quarterly tax filing deadline reminder"])
    assert on > off
    assert brand_similarity(embedder, [])(["anything"]) == [0.0]


def test_the_ranker_in_use_is_on_the_task_result_and_the_chat_reply(task_runner):
    task_runner.engine.responses = ["Spring kettles", "Our spring sale covers every kettle we make"]
    result = task_runner.bot.run_task("subject_lines", "Spring sale", n=2)
    assert result.output and result.ranker == "brand_similarity"  # no reward version promoted here
    reply = task_runner.bot.respond("/subject_lines n=2 Spring sale")
    assert reply.plugin == "subject_lines" and reply.as_dict()["ranker"] == "brand_similarity"
