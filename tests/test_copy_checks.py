"""Copy checks: each one catches the kind of line a blind editor rejected on the sample brand, and
passes the line that fixes it."""

from types import SimpleNamespace

import pytest

from botkit.prompting.brand import load_brand
from botkit.tasks.copy_checks import CopyChecks, is_incomplete, misspelled, role_plays

SALE = "Our spring sale: 20% off every toaster until April 30"


@pytest.fixture
def checks(embedder):
    # The sample brand's profile, no knowledge base: what the brief and the profile state is all copy may say.
    bot = SimpleNamespace(brand=load_brand(), embedder=embedder)
    return lambda brief: CopyChecks(bot, brief)


def test_the_brands_product_names_are_spelled_as_the_brand_spells_them(checks):
    check = checks("The Zephyr 3000 electric kettle: five temperature presets, a seven-year warranty")
    assert check.failures(["The Zephyre 3000: a kettle for years.", "The Zephyr 3000: a kettle for years."]) == [
        ["spelling", "invented facts"], []]
    assert misspelled("Next-day delivery, we'll ship it") == [] and misspelled("Recieve it") == ["recieve"]


@pytest.mark.parametrize("text, failed", [
    ("Toast for years: 20% off every toaster until April 30.", []),
    ("Toast for years: 50% off every toaster.", ["invented facts"]),
    ("Toast for years: the Heron toaster, 20% off.", ["invented facts"]),
    ("Every toaster for years, just add the toaster to", ["incomplete"]),
    ("Here's what I need you to do! Send me your old toaster for years.", ["off the brief", "role-play"]),
    ("A cheap toaster for years, 20% off.", ["banned words"]),
    ("Every toaster 20% off until April 30.", ["brand words"]),
    ("Every toaster 20% off until April 30. Simple.", ["brand words"]),  # a brand word bolted on is no voice
    ("Every toaster 20% off until April 30. It's simple and steady.", ["brand words"]),
    ("Every toaster 20% off until April 30. Simple to give.", []),  # ... a phrase with it is
    ("Quarterly tax filing, simple for years.", ["relevance", "off the brief"]),
])
def test_each_check_catches_what_an_editor_rejects(checks, text, failed):
    assert checks(SALE).failures([text]) == [failed]


def test_complete_phrasing_and_role_play():
    assert is_incomplete("...just add the Heron Gooseneck Kettle to") and is_incomplete("Tea, coffee, and")
    assert is_incomplete("Good things (and more") and not is_incomplete("Boil anywhere #tea #travel")
    assert not is_incomplete("Send us your old kettle. We'll take it from here")
    assert not is_incomplete("Free shipping on orders of $60 or more.") and is_incomplete("Free shipping on more")
    assert role_plays("I'm ready to provide more details!") and role_plays("Barkley! No more. I've got you.")
    assert not role_plays("Here comes spring: toast for years")


def test_a_fluent_line_that_drifts_off_its_brief_fails(checks):
    # Shown by the brand-voice adapter before this check (a blind reader found them unusable): each
    # says too little of what its brief says for its length.
    klarna = checks("Pay in four interest-free installments with Klarna on orders of $100 or more")
    drifting = ["For every visit, pay your money back All in one way. Pay your choice of two at once. Simple.",
                "Simple payments up front, no late fees"]
    assert all("off the brief" in f for f in klarna.failures(drifting))
    assert klarna.failures(["Pay in four interest-free installments with Klarna, simple as that."]) == [[]]
