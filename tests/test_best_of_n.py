"""Best-of-N: limits enforced, repeats dropped, ranked by the scorer, regenerated then trimmed."""

from botkit.decoding import DecodingOptions
from botkit.tasks import best_of_n, brand_similarity, first_line, repeats_itself, trim_to_limit
from botkit.testing import FakeEngine

CHAT = [{"role": "user", "content": "write"}]


def run(engine, keep=2, samples=4, limit=30, scorer=lambda texts: [-len(t) for t in texts]):
    return best_of_n(engine, CHAT, samples=samples, keep=keep, limit=limit, scorer=scorer, decoding=DecodingOptions())


def test_drops_long_and_repetitive_candidates_and_ranks_the_rest():
    engine = FakeEngine(["A kettle for years", "tea tea tea tea tea", "x" * 40, "1. \"Simple, steady mornings\""])
    best = run(engine)
    assert [c.text for c in best] == ["A kettle for years", "Simple, steady mornings"]  # shorter scores higher here
    assert len(engine.calls) == 4  # one batch of 4, no regeneration needed


def test_regenerates_once_then_trims_at_a_word_boundary_rather_than_fail():
    engine = FakeEngine(["Our kettles are built to last for years and years of tea"])
    best = run(engine, keep=1)
    assert len(engine.calls) == 8  # the second batch was asked for
    assert best[0].text == "Our kettles are built to last"


def test_helpers():
    assert trim_to_limit("Good things, brought to the boil", 14) == "Good things"
    assert trim_to_limit("Supercalifragilistic", 5) == "Super"
    assert repeats_itself("save big save big save big") and not repeats_itself("Tea at 175°F, coffee at 195°F")
    assert first_line("\n- Subject line: \"Hello there\"\nmore") == "Hello there"


def test_brand_similarity_prefers_on_brand_copy(embedder):
    score = brand_similarity(embedder, ["A kettle you buy once, backed by a seven-year warranty."])
    on, off = score(["A well-made kettle that lasts for years", "Quarterly tax filing deadline reminder"])
    assert on > off
    assert brand_similarity(embedder, [])(["anything"]) == [0.0]
