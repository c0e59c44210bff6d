"""A question about a named thing the documents never name is declined; adverbs never make a question unknown."""

from pathlib import Path

import pytest

from botkit.knowledge.terms import unknown_names, unknown_share, unknown_words

HELP_CENTRE = """# Planner Pro integrations

Planner Pro syncs with Google Calendar and Outlook every five minutes.

## Where to find us

Our office is at 8 Mill Lane, Hexford. Planner Pro costs $6 a month.
"""


@pytest.fixture
def planner_bot(tiny_bot, tmp_path):
    doc = tmp_path / "planner.md"
    doc.write_text(HELP_CENTRE)
    tiny_bot.knowledge.ingest(doc)
    return tiny_bot


def test_a_product_the_documents_never_name_is_declined(planner_bot):
    # Three of four words are known ("Planner", "Pro", "sync"): only the name says no document answers it.
    reply = planner_bot.respond("Can Planner Pro sync with Trello?")
    assert reply.grounding == "dont-know"
    assert reply.citations == []


def test_a_named_thing_the_documents_use_is_answered(planner_bot):
    reply = planner_bot.respond("Does Planner Pro sync with Outlook?")
    assert reply.grounding != "dont-know"
    assert "planner.md" in reply.citations[0].source


def test_names_are_capitalised_words_inside_the_question_not_its_first_word_or_a_shout(planner_bot):
    vocabulary = planner_bot.knowledge.vocabulary()
    assert unknown_names("Can Planner Pro sync with Trello?", vocabulary) == {"trello"}
    assert unknown_names("Trello: does Planner Pro sync with it? Trello is what we use.", vocabulary) == set()
    assert unknown_names("CAN PLANNER PRO SYNC WITH TRELLO?", vocabulary) == set()


def test_a_name_the_customer_mentions_before_asking_is_context_not_the_subject(planner_bot):
    vocabulary = planner_bot.knowledge.vocabulary()
    assert unknown_share("Can Planner Pro sync with Trello?", vocabulary) == 1.0
    # Where they are says nothing about what they ask: "Outlook" and "sync" are known words.
    assert unknown_share("I work in Lisbon. Does Planner Pro sync with Outlook?", vocabulary) < 0.5
    assert unknown_share("I work in Lisbon. Can Planner Pro sync with Trello?", vocabulary) == 1.0


def test_an_adverb_does_not_make_a_question_unknown(planner_bot):
    # "exactly" appears in no document, yet "Where exactly is your office?" asks only about the office.
    vocabulary = planner_bot.knowledge.vocabulary()
    assert unknown_share("Where exactly is your office?", vocabulary) == 0
    assert unknown_share("Do you sell refrigerators?", vocabulary) >= 0.5


def test_unknown_words_are_a_paraphrase_when_a_source_says_nearly_the_same(tiny_bot, tmp_path):
    doc = tmp_path / "booking.md"
    doc.write_text("# Booking\n\nYou can book up to 60 days ahead. Bookings open at 9 a.m. each morning.\n")
    tiny_bot.knowledge.ingest(doc)
    question = "How far in advance can I book?"
    assert unknown_share(question, tiny_bot.knowledge.vocabulary()) >= 0.5  # "far", "advance": in no document
    reply = tiny_bot.respond(question)
    assert reply.grounding != "dont-know"
    assert "booking.md" in reply.citations[0].source
    assert tiny_bot.respond("Do you sell refrigerators?").grounding == "dont-know"


GYM = """# Membership

Students get 20% off a yearly membership with a valid student card. A membership can be paused for up to two
months a year.

## Opening hours

The gym opens at 6 a.m. on weekdays and at 8 a.m. at weekends. We sell day passes at the front desk, and the
whole gym is step-free. Our team of trainers can write you a plan.
"""


def test_a_word_no_document_uses_needs_a_source_that_says_it_in_other_words(tiny_bot, tmp_path):
    doc = tmp_path / "gym.md"
    doc.write_text(GYM)
    tiny_bot.knowledge.ingest(doc)
    vocabulary = tiny_bot.knowledge.vocabulary()
    # One word of four is new in each; the paused membership says "freeze" in other words, nothing says "rugby".
    assert unknown_words("Can I freeze my gym membership for a month?", vocabulary) == {"freez"}
    reply = tiny_bot.respond("Can I freeze my gym membership for a month?")
    assert reply.grounding != "dont-know" and "paused" in reply.citations[0].text
    assert unknown_words("Is there a membership for a whole rugby team?", vocabulary) == {"rugby"}
    reply = tiny_bot.respond("Is there a membership for a whole rugby team?")
    assert reply.grounding == "dont-know" and reply.citations == []
    assert "no source sentence comes close" in reply.check
    # The opening hours rank well for "swim at the gym on weekdays", but answer only the rest of it: the question
    # is closer to them without "swim". "discount" draws the question nearer the student offer that says it.
    assert tiny_bot.respond("Can I swim at the gym on weekdays?").grounding == "dont-know"
    reply = tiny_bot.respond("Do students get a discount on a yearly membership?")
    assert reply.grounding != "dont-know" and "20% off" in reply.text
    # What the customer says before asking is context, not what the question is about.
    assert unknown_words("I play rugby. Can I freeze my gym membership for a month?", vocabulary) == {"freez"}


def test_a_question_in_none_of_the_documents_words_is_answered_when_a_source_says_it_otherwise(tiny_bot, tmp_path):
    doc = tmp_path / "hotel.md"
    doc.write_text("# Dining\n\nBreakfast is served from 7 to 10 a.m.\n\n"
                   "# Rooms\n\nEvery room has a kettle and a desk.\n")
    tiny_bot.knowledge.ingest(doc)
    vocabulary = tiny_bot.knowledge.vocabulary()
    # Every word is new ("morning", "meal"), but no name: a source saying it in other words answers it.
    assert unknown_share("When is the morning meal?", vocabulary) == 1.0
    reply = tiny_bot.respond("When is the morning meal?")
    assert reply.grounding != "dont-know" and "7 to 10" in reply.text
    # A name no document uses is never a paraphrase; common words no document uses are not called names.
    reply = tiny_bot.respond("When is the morning meal at the Hilton?")
    assert reply.grounding == "dont-know" and "names things" in reply.check
    reply = tiny_bot.respond("Do you rent bicycles?")
    assert reply.grounding == "dont-know" and "names things" not in reply.check


def test_a_name_typed_in_lower_case_is_read_as_the_sources_write_it():
    from botkit.knowledge.names import true_cased

    sources = ["\nAshby Grand\nThe Ashby and Ashby Grand look similar; the Grand is deeper.\nThe Zephyr Mini is small.",
               "\nGigabit 900\nUp to 900 Mbps."]
    assert true_cased("how wide is the ashby grand?", lambda: sources) == "how wide is the Ashby Grand?"
    assert true_cased("whats the upload on gigabit 900", lambda: sources) == "whats the upload on Gigabit 900"
    assert true_cased("is the zephyr mini dishwasher safe?", lambda: sources) == "is the Zephyr Mini dishwasher safe?"
    # The customer's own capitals are theirs to keep; a word inside another word is not a name.
    assert true_cased("how wide is the Ashby grand?", lambda: sources) == "how wide is the Ashby grand?"
    assert true_cased("is the bigashby grande nice", lambda: sources) == "is the bigashby grande nice"


def test_a_product_asked_about_in_lower_case_is_not_answered_with_another_products_rule(tiny_bot):
    tiny_bot.knowledge.ingest(Path(__file__).parent.parent / "examples" / "kettlebrook" / "knowledge")
    typed = tiny_bot.respond("is the zephyr mini dishwasher safe?")
    assert "Millrace" not in typed.text, typed.text  # the grinder's dishwasher rule, read when the name was lost
