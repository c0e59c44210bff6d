"""The shape of an answer counts beside its words: a table row labelled with what the question names, a
list for a question after a plural, and a sentence carrying the kind of fact asked for (a price, a
duration, a date, a phone number) rank first; a row marked as no longer current gives way. Made-up KBs."""

import re

import pytest

from botkit import evidence as evidence_module
from botkit.evidence import answer_types, asks_for_list, enumerates, past_marked, row_label, select_evidence
from botkit.knowledge.store import Chunk

SUPPORT = Chunk("s", "Wholesale customers are looked after by their own account manager, who answers their questions.\n"
                     "Retail: Channels: Email, phone; First reply within: 2 working days\n"
                     "Wholesale: Channels: Email, account manager; First reply within: 4 hours",
                "/kb/support.html", "Support › Replies", 0.5)
FLOURS = Chunk("f", "Every loaf we bake is made with flour from local farms in the valley.\n"
                    "Flours: Spelt, rye, emmer and heritage wheat", "/kb/bread.md", "Our bread", 0.5)
CAKES = Chunk("k", "Celebration cakes come in 3 sizes, for 8, 12 or 20 people.\n"
                   "Celebration cakes need 2 days' notice.", "/kb/cakes.md", "Celebration cakes", 0.5)


def _top(question: str, chunks: list[Chunk], embedder) -> str:
    return select_evidence(question, chunks, embedder)[0].sentence


@pytest.mark.parametrize("question, chunk, expected, rule", [
    # The row whose label the question names, not the prose about the same customers.
    ("How quickly do you answer questions from wholesale customers?", SUPPORT, "Wholesale: Channels", "LABEL_WEIGHT"),
    # A list for a question after a plural, not the sentence that says "flour" and "loaf".
    ("What flours do you bake your loaves with?", FLOURS, "Flours: Spelt", "LIST_WEIGHT"),
    # A duration for "how soon", not the sentence with more of the question's figures and words.
    ("How soon can I get a celebration cake for 12 people?", CAKES, "Celebration cakes need 2 days", "TYPE_WEIGHT"),
])
def test_the_sentence_of_the_shape_asked_for_comes_first(embedder, monkeypatch, question, chunk, expected, rule):
    assert _top(question, [chunk], embedder).startswith(expected)
    monkeypatch.setattr(evidence_module, rule, 0.0)  # the rule this case is about, switched off
    assert not _top(question, [chunk], embedder).startswith(expected)


def test_the_shapes_are_read_from_the_text():
    assert row_label("Wholesale: Minimum order: 40 loaves, Lead time: 2 days") == "Wholesale"
    assert row_label("Every loaf we bake is made with flour from local farms.") == ""
    assert enumerates("Flours: Spelt, rye, emmer and heritage wheat")
    assert enumerates("The toaster comes in three colours: Oat White, Sage Green and Charcoal.")
    assert not enumerates("Imports run in the desktop apps, under File > Import and File > Export.")
    assert not enumerates("Express: Price: $14.95, Delivery: 1 to 2 business days")  # a table row's cells
    assert asks_for_list("Which payment methods do you accept?")
    assert not asks_for_list("What time do you open?")
    price, = answer_types("How much does a sourdough loaf cost?")
    assert price.search("A sourdough loaf is £4.20.") and not price.search("A sourdough loaf weighs 800 g.")
    assert {p.pattern for p in answer_types("When do you open on Sunday?")} >= {
        p.pattern for p in answer_types("How long do you stay open?")}  # "when" also takes "within 2 hours"
    assert answer_types("Is the rye bread vegan?") == []


PRICES = Chunk("x", "Off-peak: £24 a month\nPeak: £39 a month", "/kb/prices.xlsx", "Price list › Prices 2026", 0.5)
ARCHIVED = Chunk("y", "Off-peak: £22 a month\nPeak: £36 a month", "/kb/prices.xlsx", "Price list › Archived 2025", 0.5)


def test_a_row_marked_as_no_longer_current_gives_way_unless_asked_about(embedder, monkeypatch):
    assert _top("How much is an off-peak membership?", [ARCHIVED, PRICES], embedder) == "Off-peak: £24 a month"
    assert _top("What did off-peak cost in the archived 2025 prices?", [ARCHIVED, PRICES],
                embedder) == "Off-peak: £22 a month"
    assert past_marked("Cancellation policy › Previous policy") and not past_marked("Cancellation policy")
    monkeypatch.setattr(evidence_module, "PAST_WEIGHT", 0.0)  # the rule this test is about, switched off
    assert _top("How much is an off-peak membership?", [ARCHIVED, PRICES], embedder) == "Off-peak: £22 a month"


THEFT = Chunk("t", "Tell us the same day if your bike gets stolen.\nStolen while locked: an excess of £150",
                "/kb/cover.md", "Cover › Theft", 0.5)
OFFERS = Chunk("o", "Pensioners are welcome at every session and discounts are explained at the desk.\n"
                    "Pensioners pay 20% less at any weekday session.", "/kb/offers.md", "Offers", 0.5)
CLASSES = Chunk("p", "Pottery classes are held on Saturdays and can be booked online.\n"
                     "Booking is optional: walk-ins are welcome if there is space.", "/kb/classes.md",
                "Classes › Pottery", 0.5)
ARRIVAL = Chunk("a", "You can pick up the keys any time after 3pm on the day you arrive.\n"
                     "Key collection is at the front desk, 4 Harbour Road.", "/kb/arrival.md", "Arrival", 0.5)
FILES = Chunk("f", "Files you delete are moved to the bin.\nEmptying the bin removes files for good.\n"
                   "Deleted files are kept in the bin for 14 days, and on Studio backups can bring them back too.\n"
                   "Backups of deleted files: 7 days on Basic, 90 days on Studio and 1 year on Agency.\n"
                   "Shared files are deleted for everyone.", "/kb/files.md", "Files › Deleted files", 0.5)


@pytest.mark.parametrize("question, chunk, expected", [
    ("What would I pay if my bike gets stolen?", THEFT, "Stolen while locked"),  # a price, not what to do
    ("Is there a discount for pensioners?", OFFERS, "Pensioners pay 20% less"),  # a share off, not a welcome
    ("Do I have to book a pottery class?", CLASSES, "Booking is optional"),  # what is required, not how to book
    ("Where do I pick up the keys?", ARRIVAL, "Key collection is at the front desk"),  # a place, not a time
])
def test_the_kind_of_fact_asked_for_comes_first(embedder, monkeypatch, question, chunk, expected):
    assert _top(question, [chunk], embedder).startswith(expected)
    monkeypatch.setattr(evidence_module, "_ANSWER_TYPES", evidence_module._ANSWER_TYPES[:5])  # price ... contact only
    assert not _top(question, [chunk], embedder).startswith(expected)


RETURNS = Chunk("r", "Vans must be returned to the branch they were hired from.\n"
                     "There is a grace period of 45 minutes after the agreed return time.", "/kb/returns.md",
                "Returns", 0.5)
COMPLAINTS = Chunk("c", "Complaints are acknowledged within 2 working days.\n"
                        "Ask for the duty manager or email help@example.com.", "/kb/complaints.md", "Complaints", 0.5)


@pytest.mark.parametrize("question, chunk, expected", [
    ("How late can I bring the van back?", RETURNS, "There is a grace period"),  # a time, not where to return it
    ("who do I complain to?", COMPLAINTS, "Ask for the duty manager"),  # someone to contact, not how long it takes
])
def test_how_late_asks_for_a_time_and_who_for_someone_to_contact(embedder, monkeypatch, question, chunk, expected):
    assert _top(question, [chunk], embedder).startswith(expected)
    monkeypatch.setattr(evidence_module, "_ANSWER_TYPES", ())
    assert not _top(question, [chunk], embedder).startswith(expected)
    assert evidence_module._CONTACT not in answer_types("Who is eligible for the student rate?")  # no one to contact


def test_the_fact_stated_for_the_plan_asked_about_comes_first(embedder, monkeypatch):
    question = "How long are deleted files kept on Studio?"
    assert _top(question, [FILES], embedder).startswith("Backups of deleted files")  # "90 days on Studio"
    monkeypatch.setattr(evidence_module, "BOUND_WEIGHT", 0.0)
    assert _top(question, [FILES], embedder).startswith("Deleted files are kept in the bin")


def test_a_figure_with_a_thousands_comma_stays_in_the_clause_of_the_plan_it_is_for():
    from botkit.knowledge.terms import stem

    price = [evidence_module._PRICE]
    assert evidence_module.states_for({stem("pro")}, price, "Prices: £1,200 a year on Pro, £600 on Plus.")
    assert not evidence_module.states_for({stem("team")}, price, "Prices: £1,200 a year on Pro, £600 on Plus.")


LOCKERS = ("# Lockers\n\nTo rent a locker you must bring:\n\n- photo ID, and\n"
           "- a utility bill from the last 3 months.\n\n"
           "Lockers are on the first floor, next to the changing rooms.\n\nPrices per locker:\n\n"
           "| Size | Price |\n|---|---|\n| Small | £5 a month |\n| Large | £8 a month |\n")


def test_a_line_that_opens_a_list_is_quoted_with_its_items(bot_with):
    reply = bot_with("lockers.md", LOCKERS).respond("What do I need to bring to rent a locker?")
    assert "photo ID" in reply.text and "utility bill" in reply.text, reply.text
    assert not re.search(r":\s*\[\d+\]", reply.text)  # never "... you must bring: [1]"
    # An item is never quoted without the line that says what it is an item of ("Take beds apart ...;" alone).
    movers = bot_with("movers.md", "# Moving\n\nOur movers will:\n\n- take beds apart and put them back together;\n"
                                   "- not carry pianos or hot tubs;\n- not lift anything through a window.\n")
    for question in ("do you take beds apart?", "can the movers lift a sofa through a window?"):
        assert "Our movers will: take beds apart" in movers.respond(question).text


def test_rows_after_an_opening_line_stay_rows_and_a_long_list_stays_lines():
    assert evidence_module._with_items(["Prices per locker:", "Small: £5 a month", "Large: £8 a month"]) == [
        "Prices per locker:", "Small: £5 a month", "Large: £8 a month"]
    # A row labelled by a figure is a row too, not an item.
    assert evidence_module._with_items(["Prices per size:", "10 sq ft: £15 a week", "25 sq ft: £25 a week"])[0] == (
        "Prices per size:")
    # Items without their own punctuation are not run together.
    bring = evidence_module._with_items(["Bring:", "photo ID", "proof of address"])
    assert bring[0] == "Bring: photo ID; proof of address"
    # Items that start with a capital but do not end as sentences are items too.
    plus = evidence_module._with_items(["Everything in Essential, plus:", "Tick and lungworm cover for dogs",
                                        "A microchip for pets under one year old", "Our clinics open at 8."])
    assert plus == ["Everything in Essential, plus: Tick and lungworm cover for dogs; A microchip for pets under one "
                    "year old", "Our clinics open at 8."]
    # A row whose label is too long to read as one is still a row, not an item of a list.
    rows = ["Standard delivery to UK mainland addresses: Time: 3-5 working days, Price: £3.95",
            "Next day delivery (order by 2pm): Time: 1 working day, Price: £6.95"]
    assert evidence_module._with_items(["Our delivery options:", *rows]) == ["Our delivery options:", *rows]
    # A list too long to quote whole stays as its lines: its opening line may hold the only fact ("a fee of £45 if:").
    items = [f"item number {n} of a long list of things you may bring along to the first session;" for n in range(8)]
    assert evidence_module._with_items(["You may bring:", *items]) == ["You may bring:", *items]


def test_a_long_list_with_capitalised_items_is_quoted_whole_not_its_opening_line_alone(bot_with):
    plan = bot_with("plan.md", "# Pet plans\n\n## What Complete includes\n\nEverything in Essential, plus:\n\n"
                               "- Tick and lungworm cover for dogs, added to the monthly parasite treatment\n"
                               "- Unlimited nurse clinics (nail clips, weight checks, dental checks)\n"
                               "- A microchip for pets under one year old, if they are not chipped already\n"
                               "- An annual blood screen for pets aged eight years or over\n"
                               "- 15% off all other consultations, medicines and procedures\n"
                               "- 20% off dental procedures, including the blood test done on the day\n\n"
                               "## Essential\n\nEssential plan members get 10% off the standard price.\n")
    reply = plan.respond("What extra do you get on the Complete plan that you don't get on Essential?")
    assert "lungworm" in reply.text, reply.text
    assert not re.search(r":\s*\[\d+\]", reply.text)  # never "Everything in Essential, plus: [1]"


LIGHTS = ("# What the lights mean\n\n| Light on the front | What it means | What to do |\n|---|---|---|\n"
          "| Solid green | Connected and working | Nothing |\n| Flashing green | Starting up | Wait up to 2 minutes |\n"
          "| Flashing red | No signal from the wall socket | Check the cable |\n"
          "| Solid red | Connected to the line but not to the internet | Restart the modem |\n"
          "| No light | No power | Check the plug |\n")


def test_a_row_the_question_names_comes_before_the_tables_list_of_rows(bot_with):
    bot = bot_with("lights.md", LIGHTS)
    reply = bot.respond("what does a solid red light on the front mean?")
    assert reply.text.startswith("Solid red"), reply.text
    # Asked for the list, the list answers.
    listed = bot.respond("Which lights can the modem show?").text
    assert "Solid green, Flashing green, Flashing red, Solid red and No light" in listed
