"""Which product or row a sentence is about: a rule for the kind of product answers for the one named,
a sentence about another named product gives way, and a count, a one-letter label or a day of the week
picks its row. Made-up KBs."""

import pytest

from botkit import evidence as evidence_module
from botkit.database import open_database
from botkit.evidence import days, identifiers, select_evidence
from botkit.knowledge.names import as_kind, compound_names, kinds
from botkit.knowledge.store import Chunk, KnowledgeBase

GROUPS = Chunk("g", "Group A: Example: Fiat 500, Seats: 4, Daily rate: $39, Deposit: $200\n"
                    "Group B: Example: Ford Focus, Seats: 5, Daily rate: $49, Deposit: $250\n"
                    "Group C: Example: Skoda Octavia Estate, Seats: 5, Daily rate: $59, Deposit: $300",
               "/kb/cars.md", "Vehicle groups", 0.5)
HOURS = Chunk("h", "Monday to Friday: Gym floor: 6am to 10pm, Pool: 7am to 9pm\n"
                   "Weekends: Gym floor: 8am to 8pm, Pool: 9am to 6pm\n"
                   "Yoga runs on Saturday mornings at 9am.", "/kb/hours.md", "Opening hours › Northgate club", 0.5)
BLENDERS = Chunk("b", "The Aster Blender Pro jug is dishwasher safe.", "/kb/blender.md", "Aster Blender Pro", 0.6)
JUICERS = Chunk("j", "The Aster Mini Juicer jug should be washed by hand in warm soapy water.",
                "/kb/juicer.md", "Aster Mini Juicer › Care", 0.5)


def _top(question: str, chunks: list[Chunk], embedder) -> str:
    return select_evidence(question, chunks, embedder)[0].sentence


def test_a_one_letter_label_picks_its_row(embedder, monkeypatch):
    assert _top("How much is the deposit for a group C car?", [GROUPS], embedder).startswith("Group C")
    monkeypatch.setattr(evidence_module, "identifiers", lambda text: set())  # the rule, switched off
    assert not _top("How much is the deposit for a group C car?", [GROUPS], embedder).startswith("Group C")


def test_counts_and_labels_are_read_alike_in_words_and_figures():
    assert identifiers("Is the two-slot toaster in stock?") == identifiers("The 2-Slice Toaster") == {"#2"}
    assert identifiers("a group C car") == {"#c"}
    # Not a label: "I", a code's letter, a price, a decimal, the pronoun "one".
    assert identifiers("Can I get E-204 fixed for $15 or 1.5 of one?") == {"#204"}


def test_a_day_picks_the_row_of_the_range_or_weekend_it_falls_in(embedder, monkeypatch):
    assert _top("Is the gym open on Saturday evening?", [HOURS], embedder).startswith("Weekends")
    monkeypatch.setattr(evidence_module, "days", lambda text: set())  # the rule, switched off
    assert not _top("Is the gym open on Saturday evening?", [HOURS], embedder).startswith("Weekends")


def test_days_are_read_from_names_ranges_and_weekends():
    assert days("Mon-Fri and Sat") == {"@mon", "@tue", "@wed", "@thu", "@fri", "@sat"}
    assert days("Weekends: 8am") == days("on a Sunday or Saturday") == {"@sat", "@sun"}
    assert days("monthly fees for the sun terrace") == set()


def test_a_sentence_about_another_named_product_gives_way(embedder, monkeypatch):
    question = "Is the Aster Mini Juicer jug dishwasher safe?"
    assert _top(question, [BLENDERS, JUICERS], embedder).startswith("The Aster Mini Juicer")
    monkeypatch.setattr(evidence_module, "OTHER_WEIGHT", 0.0)  # the rule, switched off
    assert _top(question, [BLENDERS, JUICERS], embedder).startswith("The Aster Blender Pro")


def test_a_name_of_three_words_is_a_name_and_title_case_is_not():
    assert compound_names("Is the Aster Mini Juicer dishwasher safe?") == ["Aster Mini Juicer"]
    assert compound_names("How do I reset my Apple ID?") == ["Apple ID"]
    assert compound_names("Is The Aster Mini Juicer Dishwasher Safe?") == []


def test_the_kind_of_a_named_product_is_read_from_its_fullest_spelling():
    texts = ["Aster Mini Travel Juicer › Design\nThe Aster Mini weighs 900 grams."]
    assert kinds("Is the Aster Mini dishwasher safe?", texts) == {"Aster Mini": "juicer"}
    assert as_kind("Is the Aster Mini dishwasher safe?", {"Aster Mini": "juicer"}) == "Is the juicer dishwasher safe?"
    assert kinds("Is the Aster Blender dishwasher safe?", texts) == {}


@pytest.fixture
def aster(settings, embedder, tmp_path):
    """A small brand (Orchard Home) whose travel juicer's own pages never say whether it may go in a dishwasher."""
    docs = tmp_path / "orchard"
    docs.mkdir()
    (docs / "aster-mini.md").write_text(
        "# Aster Mini Travel Juicer\n\nThe Aster Mini is Orchard Home's compact travel juicer for hotel rooms.\n\n"
        "## Design\n\nThe Aster Mini weighs 900 grams. The Aster Mini has a single speed.\n\n"
        "## Colours\n\nThe Aster Mini comes in two colours: Slate Grey and Oat White.\n\n"
        "## Charging\n\nThe Aster Mini charges over USB-C in two hours.\n")
    (docs / "questions.jsonl").write_text(
        '{"question": "Can I machine wash the Aster Mini travel pouch?", "answer": "The Aster Mini travel pouch is '
        'made of waxed cotton, so it should be wiped clean with a damp cloth rather than machine washed."}\n'
        '{"question": "Is the Heron Blender Pro dishwasher safe?", "answer": "The Heron Blender Pro jug is '
        'not dishwasher safe; wash it by hand."}\n')
    (docs / "safety.txt").write_text(
        "Orchard Home Safety Notices\n\nOrchard Home appliances are for household use only.\n"
        "Never put an Orchard Home juicer base, blender base or kettle base in water or in a dishwasher.\n"
        "Unplug any Orchard Home appliance before cleaning it, and let it cool completely.\n"
        "Use Orchard Home appliances on a flat, dry surface, away from the edge of the counter.\n"
        "Children under 8 years old should not use Orchard Home appliances and should be supervised near them.\n"
        "Do not let the power cord hang over the edge of a counter, where it can be pulled.\n")
    kb = KnowledgeBase(open_database(settings.database_path), settings.chroma_path, embedder)
    kb.ingest(docs)
    return kb


def test_a_rule_for_every_product_of_the_kind_answers_for_the_one_named(aster, embedder):
    question = "Is the Aster Mini dishwasher safe?"
    chunks = aster.search(question, 4, 0.3)
    assert any(c.source.endswith("safety.txt") for c in chunks)
    assert _top(question, chunks, embedder).startswith("Never put an Orchard Home juicer base")


def test_without_the_kind_the_travel_pouch_answers_instead(aster, embedder, monkeypatch):
    from botkit.knowledge import store as store_module

    monkeypatch.setattr(store_module, "kinds", lambda question, texts: {})  # the rule, switched off
    monkeypatch.setattr(evidence_module, "kinds", lambda question, texts: {})
    question = "Is the Aster Mini dishwasher safe?"
    assert not _top(question, aster.search(question, 4, 0.3), embedder).startswith("Never put")
