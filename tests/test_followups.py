"""Follow-ups detected, not guessed (botkit.followups through Bot): a message is read with the previous
question only when it refers back to it; a short message with a subject of its own stands alone."""

import pytest

from botkit.followups import follows_up

KETTLE = "Is the Zephyr Mini dishwasher safe?"


def finds(*topics):
    """A stand-in for "does this text find evidence alone?": only texts naming one of `topics` do."""
    return lambda text: any(t in text.lower() for t in topics)


@pytest.mark.parametrize("message", [
    "and the warranty?",  # opens as a continuation
    "What about the Heron?",
    "and if I pay yearly?",
    "Can I put it in the oven?",  # points back, about the same thing
    "Do I need a card for it?",  # points back, finds nothing alone
    "dishwasher?",  # a fragment close to the previous turn that finds nothing alone
    "How long does that take?",  # "that" as the subject after the verb
    "Is this covered by the warranty?",
    "Can I drop it off there?",
    "Do I need to book one?",
    "What happens then?",
])
def test_a_message_that_refers_back_is_read_with_the_previous_question(message, embedder):
    assert follows_up(message, KETTLE, embedder, finds("warranty", "heron", "oven"))


@pytest.mark.parametrize("message", [
    "what's your refund policy",  # the case: short, but a subject of its own
    "what does E-408 mean",
    "Do you ship to Canada?",
    "Is there a student discount?",
    "Does the Heron come in red?",  # a pronoun-free question naming its own product
    "Is there free parking?",  # "there" as in "there is", not a place said before
    "Are there gift cards?",
])
def test_a_short_message_with_its_own_subject_stands_alone(message, embedder):
    assert not follows_up(message, KETTLE, embedder, finds("refund", "e-408", "canada", "student", "heron"))


def test_no_previous_question_no_follow_up(embedder):
    assert not follows_up("and the warranty?", "", embedder, finds())


@pytest.fixture
def bot(tiny_bot, knowledge_dir):
    tiny_bot.knowledge.ingest(knowledge_dir)
    return tiny_bot


def test_an_unrelated_short_question_gets_its_own_sources(bot):
    first = bot.respond(KETTLE)
    alone = bot.respond("what's your refund policy")
    after = bot.respond("what's your refund policy", first.session_id)
    assert after.text == alone.text and "refund" in after.text.lower()
    assert {c.source for c in after.citations} == {c.source for c in alone.citations}


def test_a_follow_up_is_answered_about_the_previous_question(bot):
    first = bot.respond("How much does the Zephyr Mini cost?")
    follow = bot.respond("and how long is its warranty?", first.session_id)
    alone = bot.respond("and how long is its warranty?")
    assert "Mini" in follow.text or any("Mini" in c.text for c in follow.citations), follow.text
    assert follow.text != alone.text


def test_a_follow_up_is_judged_with_the_question_it_continues(tiny_bot, tmp_path):
    doc = tmp_path / "treatments.md"
    doc.write_text("# Fillings\n\nA white filling takes about 40 minutes. White fillings are safe for children "
                   "and adults.\n\n# Opening hours\n\nThe practice is open Monday to Friday.\n")
    tiny_bot.knowledge.ingest(doc)
    # Alone, "youngsters" is half of what it asks and no document says it: declined.
    assert tiny_bot.respond("Are they safe for youngsters?").grounding == "dont-know"
    first = tiny_bot.respond("How long does a white filling take?")
    follow = tiny_bot.respond("Are they safe for youngsters?", first.session_id)
    assert follow.grounding != "dont-know" and "safe for children" in follow.text


def test_a_follow_up_about_another_row_is_not_given_the_row_quoted_before(bot_with):
    bot = bot_with("swim.md", "# Swim lessons\n\n| Lessons | Price per term | Lessons a term |\n|---|---|---|\n"
                              "| Adult lessons | £60 | 10 |\n| Junior lessons (under 16) | £45 | 10 |\n")
    first = bot.respond("How much are adult swim lessons a term?")
    assert "£60" in first.text
    follow = bot.respond("and the ones for kids?", first.session_id)
    assert "£45" in follow.text and "£60" not in follow.text, follow.text
