"""Annotators: a plugin's judge is found through `register_annotators`, and the simulated annotator
prefers what it declares (passing, on-brand, concise copy) with the label noise it is given."""

from types import SimpleNamespace

import pytest

from botkit.feedback.annotators import JudgeContext, SimulatedAnnotator, context_for
from botkit.hookspecs import hookimpl
from botkit.plugins import get_annotator, get_annotators, load_plugin_manager
from botkit.prompting.brand import load_brand

SALE = "Our spring sale: 20% off every toaster until April 30"


@pytest.fixture
def sale(embedder):
    # The sample brand's profile, no knowledge base: its words, its banned words and the copy checks.
    bot = SimpleNamespace(brand=load_brand(), embedder=embedder)
    return context_for(bot, SALE, "subject_lines")


class AlwaysA:
    """A team's own judge (an LLM judge, say), reduced to its interface."""

    name = "always-a"

    def judge(self, prompt, a, b, context):
        return "a"


def test_a_plugins_annotator_is_looked_up_beside_the_simulated_one():
    pm = load_plugin_manager()

    class Plugin:
        @hookimpl
        def register_annotators(self, register):
            register(AlwaysA())

    pm.register(Plugin(), "team-judge")
    assert set(get_annotators(pm)) == {"simulated", "always-a"}
    assert get_annotator("always-a", pm).judge("q", "x", "y", JudgeContext()) == "a"


def test_a_plugins_judge_named_simulated_replaces_the_built_in():
    pm = load_plugin_manager()
    judge = AlwaysA()
    judge.name = "simulated"

    class Plugin:
        @hookimpl
        def register_annotators(self, register):
            register(judge)

    pm.register(Plugin(), "team-judge")
    assert get_annotator("simulated", pm) is judge


def test_an_unknown_annotator_is_one_error_naming_the_known_ones():
    from botkit.errors import BotkitError

    with pytest.raises(BotkitError, match="unknown annotator 'gpt-judge'.*simulated"):
        get_annotator("gpt-judge")


@pytest.mark.parametrize("better, worse", [
    # passes every check / stops mid-phrase
    ("Toast for years: 20% off every toaster until April 30.", "Toast for years: 20% off every toaster until the"),
    # the brand's words / none of them
    ("Toast for years: 20% off every toaster until April 30.", "Toast: 20% off every toaster until April 30."),
    # concise / as good but much longer
    ("Every toaster 20% off, built to last.",
     "Every toaster in the shop is 20% off until April 30, each one simple, steady and built to last."),
    # the brand's facts / an invented discount
    ("Simple toast for years: 20% off every toaster.", "Simple toast for years: 50% off every toaster."),
])
def test_the_simulated_annotator_prefers_passing_on_brand_concise_copy(sale, better, worse):
    judge = SimulatedAnnotator(noise=0.0)
    assert judge.judge(SALE, better, worse, sale) == "a"
    assert judge.judge(SALE, worse, better, sale) == "b"


def test_two_candidates_failing_as_many_checks_are_both_bad_else_the_lesser_failure_wins(sale):
    judge = SimulatedAnnotator(noise=0.0)
    # banned + brand words / role-play + brand words: two checks each
    assert judge.judge(SALE, "A cheap toaster, 20% off.", "Buy a toaster from me.", sale) == "both-bad"
    # brand words only / role-play + brand words
    assert judge.judge(SALE, "Every toaster 20% off until April 30.", "Buy a toaster from me.", sale) == "a"
    same = "Toast for years: 20% off every toaster until April 30."
    assert judge.judge(SALE, same, same, sale) == "tie"


def test_label_noise_flips_that_share_of_decisive_verdicts_and_a_seed_repeats_it():
    context = JudgeContext()
    pairs = [(f"Kettle {i}.", f"The kettle numbered {i} in our long list of kettles.") for i in range(3000)]
    for noise in (0.0, 0.15, 0.3):
        judge = SimulatedAnnotator(noise=noise, seed=7)
        flipped = sum(judge.judge("q", a, b, context) == "b" for a, b in pairs) / len(pairs)
        assert flipped == pytest.approx(noise, abs=0.025)
    first = [SimulatedAnnotator(0.15, seed=1).judge("q", a, b, context) for a, b in pairs[:200]]
    assert first == [SimulatedAnnotator(0.15, seed=1).judge("q", a, b, context) for a, b in pairs[:200]]
    assert first != [SimulatedAnnotator(0.15, seed=2).judge("q", a, b, context) for a, b in pairs[:200]]


def test_label_noise_outside_zero_to_one_is_refused():
    from botkit.errors import BotkitError

    with pytest.raises(BotkitError, match="between 0 and 1"):
        SimulatedAnnotator(noise=1.5)


def test_a_chat_answers_citation_markers_are_not_invented_figures(embedder):
    bot = SimpleNamespace(brand=load_brand(), embedder=embedder)
    question = "How long is the warranty on every toaster?"
    failures = context_for(bot, question, None).failures
    # "[2]" names the source an answer cites; "9 years" is a figure nothing states (the brand says seven).
    assert "invented facts" not in failures("Every toaster has a warranty [2].")
    assert "invented facts" in failures("Every toaster has a 9 year warranty [2].")
