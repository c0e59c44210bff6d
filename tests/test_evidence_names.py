"""A product name of two words that no source uses, beside others of its kind that they do use, is
another product: the sources cannot answer for it."""

from botkit import evidence as evidence_module
from botkit.evidence import select_evidence
from botkit.knowledge.store import Chunk

LAMPS = Chunk("l", "The Orbit Lamp and the Orbit Speaker both come with a two-year warranty. "
                   "Register your Orbit device within 30 days to add a third year.",
              "/kb/warranty.md", "Warranty", 0.6)
HOURS = Chunk("h", "The shop is closed on 25 and 26 December and on 1 January. "
                   "On every other holiday we keep our normal hours.",
              "/kb/hours.md", "Opening hours › Holidays", 0.5)


def test_a_sibling_of_the_named_products_is_declined(embedder, monkeypatch):
    assert select_evidence("Does the Orbit Clock come with a warranty?", [LAMPS, HOURS], embedder) == []
    found = select_evidence("Does the Orbit Lamp come with a warranty?", [LAMPS, HOURS], embedder)
    assert "two-year warranty" in found[0].sentence
    monkeypatch.setattr(evidence_module, "other_of_kind", lambda name, texts: False)  # the rule, switched off
    assert select_evidence("Does the Orbit Clock come with a warranty?", [LAMPS, HOURS], embedder)


def test_a_name_the_sources_write_otherwise_is_still_answered(embedder):
    # "Boxing Day" is in no source, but no source names anything else "Boxing ...": the date answers it.
    found = select_evidence("Is the shop open on Boxing Day?", [LAMPS, HOURS], embedder)
    assert "26 December" in found[0].sentence
