""""What ID ...": the sentence naming the kind of thing asked for is quoted, not a row that only shares the
question's other words; a short acronym counts as a word."""

from botkit import evidence as evidence_module
from botkit.evidence import answer_kind, select_evidence
from botkit.knowledge.store import Chunk

FLEET = Chunk("f", "Solo: Type: Sit-on-top kayak, Seats: 1, Paddler weight: up to 110 kg\n"
                   "Duo: Type: Touring kayak, Seats: 2, Paddler weight: up to 200 kg\n"
                   "Scout: Type: Kids' kayak, Seats: 1, Paddler age: 6 to 12", "/kb/kayaks.html", "Our kayaks", 0.5)
CHECK_IN = Chunk("c", "Bring a photo ID when you check in: a passport or a driving licence. "
                      "The person who signs the hire agreement must be 18 or older.", "/kb/booking.md",
                 "Booking › What to bring", 0.45)
QUESTION = "What ID do I need to bring when I pick up the kayaks?"


def test_the_sentence_naming_what_is_asked_for_comes_first(embedder, monkeypatch):
    assert select_evidence(QUESTION, [FLEET, CHECK_IN], embedder)[0].sentence.startswith("Bring a photo ID")
    monkeypatch.setattr(evidence_module, "HEAD_WEIGHT", 0.0)  # the rule this test is about, switched off
    assert select_evidence(QUESTION, [FLEET, CHECK_IN], embedder)[0].chunk is FLEET


def test_the_kind_asked_for_is_the_words_between_what_and_the_verb():
    assert answer_kind(QUESTION) == {"id"}
    assert answer_kind("Which payment methods do you accept?") == {"paymen", "method"}
    assert answer_kind("What happens if I bring the kayak back late?") == set()
    assert answer_kind("What does a day's hire cost?") == set()
