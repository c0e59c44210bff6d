"""A question about a size, term or count the sources list other figures of and never this one is declined,
not answered with the nearest row; a yes/no question's figure is a condition, answered as before."""

import pytest

PRICE_LIST = """# Storage unit prices

| Unit | Size | Price per week |
|---|---|---|
| Small | 25 sq ft | £15.95 |
| Medium | 50 sq ft | £25.95 |
| Large | 100 sq ft | £45.95 |

# Finance

Our interest-free plan runs for 12 months and needs a 10% deposit. The interest-bearing plan runs for 36 months at
14.9% APR. Bulky collections cost £38 for 1 to 3 items and £74 for 4 to 9 items.

# Warranty

Every unit lock is covered by a five-year warranty.
"""


@pytest.fixture
def bot(bot_with):
    return bot_with("prices.md", PRICE_LIST)


@pytest.mark.parametrize("question, missing", [
    ("How much is a 200 sq ft unit?", "200 sq"),
    ("whats the APR on the 48 month plan", "48 month"),
    ("how much is a bulky collection if i've got 10 or more items", "10 items"),
])
def test_a_figure_the_sources_never_give_is_declined(bot, question, missing):
    reply = bot.respond(question)
    assert reply.grounding == "dont-know" and reply.text == bot.brand.dont_know and not reply.citations
    assert missing in reply.check


@pytest.mark.parametrize("question, fact", [
    ("How much a week is a 50 sq ft unit?", "25.95"),
    ("how much is a bulky collection for 6 items?", "74"),
])
def test_a_figure_the_sources_give_is_answered(bot, question, fact):
    reply = bot.respond(question)
    assert reply.grounding != "dont-know" and fact in reply.text, reply.check


def test_a_yes_no_question_s_figure_is_a_condition_not_a_missing_row(bot):
    reply = bot.respond("My lock is four years old and broke, is it still under warranty?")
    assert "asks about" not in reply.check


def test_time_gone_by_is_a_circumstance_not_the_figure_asked_about(bot):
    # "3 months ago" is when the customer did something, not a 3-month plan the price list lacks.
    reply = bot.respond("I got the interest-free plan 3 months ago, what deposit does it need?")
    assert "asks about" not in reply.check and "10%" in reply.text, (reply.text, reply.check)
    # Also with a unit of two words.
    from botkit.quantities import asked
    assert asked("i sent it back 3 working days ago, how long until my refund arrives?") == []
