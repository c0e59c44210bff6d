"""A question about a size or weight is answered from the source that states that dimension ("Width: 238 cm" for
"how wide"), and declined when the sources give other measures and never that one ("how heavy" of a row with its
width and depth), not answered with the nearest row."""

import pytest

from botkit.measures import dimension_asked

CATALOGUE = """# Sofas

| Sofa | Seats | Width | Diagonal depth | Price from |
|---|---|---|---|---|
| Ashby 3-seater | 3 | 214 cm | 86 cm | £899 |
| Ashby Grand | 4 | 238 cm | 92 cm | £1,149 |
| Linden Corner | 5 | 262 x 180 cm | 81 cm | £1,099 |

The Ashby and Ashby Grand look similar; the Grand is deeper, has a fourth seat cushion and a taller back.

# Toasters

The Brookside toaster weighs 6.8 pounds and comes with a two-year warranty.
"""


@pytest.fixture
def bot(bot_with):
    return bot_with("catalogue.md", CATALOGUE)


@pytest.mark.parametrize("question, fact", [
    ("how heavy is the linden corner sofa? need to know for getting it upstairs", None),  # its width and depth only
    ("How thick are the cushions on the Ashby Grand?", None),
    ("how wide is the ashby grand? trying to work out if it fits my living room wall", "238 cm"),
    ("How heavy is the Brookside toaster?", "6.8 pounds"),
])
def test_a_dimension_is_answered_from_the_source_stating_it_and_declined_when_none_does(bot, question, fact):
    reply = bot.respond(question)
    if fact is None:
        assert reply.grounding == "dont-know" and reply.text == bot.brand.dont_know and not reply.citations
        assert f"how {dimension_asked(question)} it is" in reply.check
    else:
        assert reply.grounding != "dont-know" and fact in reply.text, reply.check
        assert fact in reply.citations[0].text


def test_a_knowledge_base_ingested_before_measures_were_joined_still_knows_its_widths(bot):
    # Its stored stems say "width", as ingestion stemmed it then; the question's "how wide" stems to "wid" today.
    files = bot.knowledge.db["knowledge_files"]
    for row in list(files.rows):
        stems = set(row["terms"].split())
        assert "wid" in stems
        files.update(row["path"], {"terms": " ".join(sorted(stems - {"wid"} | {"width"}))})
    assert "wid" in bot.knowledge.vocabulary()
    reply = bot.respond("how wide is the ashby grand?")
    assert reply.grounding != "dont-know" and "238 cm" in reply.text, reply.check
