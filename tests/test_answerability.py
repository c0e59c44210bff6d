"""A question in words no document uses is answered when the sources answer it as they answer a customer's
paraphrase, and declined when it asks about something they never cover."""

import pytest

from botkit.answerability import PARAPHRASE_PROBABILITY, asks_for_fact, signals
from botkit.evidence import closest_cosine
from botkit.knowledge.terms import unknown_share

BOATHOUSE = """# Boat hire prices

| Boat | 1 hour | Full day |
|---|---|---|
| Rowing boat | £12 | £45 |
| Canoe | £15 | £55 |

## Extras

| Extra | Price |
|---|---|
| Buoyancy aid | £3 per day |
| Waterproof bag | £2 per day |

## Opening hours

The boathouse opens at 9:00 and the last boat goes out at 17:00.
"""


def test_a_paraphrase_in_the_customers_words_is_answered_and_an_uncovered_thing_is_not(tiny_bot, tmp_path):
    doc = tmp_path / "boats.md"
    doc.write_text(BOATHOUSE)
    tiny_bot.knowledge.ingest(doc)
    vocabulary = tiny_bot.knowledge.vocabulary()
    # Half the words are in no document ("dry", "sack"), yet the price list answers it: the waterproof bag.
    assert unknown_share("How much is a dry sack per day?", vocabulary) >= 0.5
    reply = tiny_bot.respond("How much is a dry sack per day?")
    assert reply.grounding != "dont-know" and "£2" in reply.text, reply.check
    # A thing the boathouse never mentions, though its prices rank for it, is still declined.
    reply = tiny_bot.respond("Do you rent wetsuits?")
    assert reply.grounding == "dont-know" and "most of the question's words" in reply.check


def test_a_question_asking_for_a_fact_reads_as_answerable_sooner_than_a_yes_no_one(tiny_bot, tmp_path):
    doc = tmp_path / "boats.md"
    doc.write_text(BOATHOUSE)
    tiny_bot.knowledge.ingest(doc)
    vocabulary, embedder = tiny_bot.knowledge.vocabulary(), tiny_bot.embedder
    evidence = tiny_bot._evidence("How much is a dry sack per day?")
    asked = signals("How much is a dry sack per day?", vocabulary,
                    closest_cosine("How much is a dry sack per day?", evidence, embedder), evidence, embedder)
    yes_no = signals("Is a dry sack cheap per day?", vocabulary,
                     closest_cosine("Is a dry sack cheap per day?", evidence, embedder), evidence, embedder)
    assert asked.asks_fact == 1 and yes_no.asks_fact == 0
    assert asked.probability() >= PARAPHRASE_PROBABILITY > yes_no.probability()


@pytest.mark.parametrize("question, asks", [
    ("What does the 2.5 L kettle cost?", True),  # a decimal point ends no sentence
    ("I moved house last week. How do I transfer my plan?", True),
    ("Thanks. Is the 1.7 litre kettle dishwasher safe?", False),
    ("Do you deliver on Sundays?", False),
])
def test_the_sentence_that_asks_says_whether_a_fact_or_a_yes_or_no_is_wanted(question, asks):
    assert asks_for_fact(question) is asks


PLUMBER = """# Emergencies

Out of hours, call our emergency line on 0161 555 0199. An engineer is on call every night and at weekends.

# Opening hours

The office is open Monday to Friday, 8:00 to 17:30.

# Prices

A standard call-out costs £85 for the first hour, then £40 for each further half hour.
"""


def test_a_fact_asked_in_the_customers_own_words_is_answered_and_a_yes_no_about_an_uncovered_thing_is_not(bot_with):
    tiny_bot = bot_with("plumber.md", PLUMBER)
    vocabulary = tiny_bot.knowledge.vocabulary()
    # Most of its words are in no document ("radiator", "leaking", "shut"), yet what it asks for ("who do I call")
    # is in the sources' words: the rest is the customer's circumstances.
    question = "who do I call if my radiator is leaking in the middle of the night and you're shut"
    assert unknown_share(question, vocabulary) >= 0.5
    reply = tiny_bot.respond(question)
    assert reply.grounding != "dont-know" and "0161 555 0199" in reply.text, reply.check
    for uncovered in ("Do you fit solar panels?", "What do solar panels cost?", "Do you sell sheds, and how much?"):
        reply = tiny_bot.respond(uncovered)
        assert reply.grounding == "dont-know" and reply.text == tiny_bot.brand.dont_know, reply.text


CAFE = """# Breakfast

Breakfast at Riverside is served until 11:30 on weekdays and until 12:00 on Sundays.
Breakfast at Market Square is served until 11:00 every day.

# Bookings

We take table bookings for groups of six or more; call the cafe to book.
"""


def test_a_source_that_matches_all_the_rest_answers_a_question_with_the_customers_own_word(bot_with):
    tiny_bot = bot_with("cafe.md", CAFE)
    # "brekkie" is in no document and pulls the question away from every source, but the place, the day and the
    # kind of fact asked for are all in one sentence.
    reply = tiny_bot.respond("what time is brekkie served till on a sunday at Riverside?")
    assert reply.grounding != "dont-know" and "12:00" in reply.text, reply.check
    reply = tiny_bot.respond("Do you do bottomless brunch at Riverside on sundays?")
    assert reply.grounding == "dont-know" and reply.text == tiny_bot.brand.dont_know, reply.text
