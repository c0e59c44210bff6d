"""A sentence that points back ("It is released ...") is ranked as what the sentence before it is about."""

from botkit.evidence import select_evidence
from botkit.knowledge.store import Chunk

DEPOSIT = Chunk("d", "When you collect a kayak we hold a deposit of £100 on your card. It is released within 3 working "
                     "days of the kayak coming back to us undamaged.", "/kb/deposits.md", "Deposits", 0.55)
LATE = Chunk("l", "Kayaks returned after the agreed time are charged a late fee of £8 per started hour. If you know "
                  "you will be late, call us and we will extend your hire.", "/kb/prices.md", "Hire prices", 0.58)


def test_a_deposit_sentence_that_says_it_does_not_answer_a_question_about_returning_late(embedder):
    # Read alone, "It is released ... the kayak coming back" sounds like bringing a kayak back late.
    evidence = select_evidence("What happens if I bring the kayak back late?", [DEPOSIT, LATE], embedder)
    assert "late fee of £8" in evidence[0].sentence
