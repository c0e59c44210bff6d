import pytest

from botkit.evidence import Evidence, select_evidence
from botkit.grounding import check_answer, clean_answer, quote_answer
from botkit.knowledge.store import Chunk

WARRANTY = Chunk("c1", "# Zephyr 3000\n\nThe Zephyr 3000 holds 1.7 liters. "
                       "Every Zephyr 3000 comes with a seven-year warranty.",
                 "/kb/zephyr.md", "Zephyr 3000", 0.6)
HOURS = Chunk("c2", "The Portland shop is open Monday to Saturday from 9 a.m. to 6 p.m. "
                    "and on Sunday from 11 a.m. to 4 p.m.",
              "/kb/stores.md", "Stores", 0.5)
QUESTION = "How long is the warranty on the Zephyr 3000 kettle?"


@pytest.fixture
def evidence(embedder):
    return select_evidence(QUESTION, [WARRANTY, HOURS], embedder)


def test_the_answering_sentence_is_selected_first(evidence):
    assert evidence[0].sentence == "Every Zephyr 3000 comes with a seven-year warranty."
    assert evidence[0].chunk is WARRANTY


def test_nothing_relevant_selects_nothing(embedder):
    assert select_evidence("Who won the football world cup in 1966?", [WARRANTY, HOURS], embedder, min_score=0.3) == []


@pytest.mark.parametrize("answer", [
    "The answer is: 2.2 hours",  # what the default model once said, given this very source
    "The Zephyr 3000 comes with a five-year warranty.",
    "The Zephyr 3000 comes with a seven-year warranty and free descaling for life from Zeus Corp.",
    "The Zephyr 3000 has no warranty.",
    "",
])
def test_unsupported_answers_are_rejected(answer, evidence, embedder):
    assert not check_answer(clean_answer(answer), QUESTION, evidence, embedder).supported


@pytest.mark.parametrize("answer", [
    "The Zephyr 3000 comes with a seven-year warranty.",
    "The answer to your question is: The Zephyr 3000 comes with a seven-year warranty.",
    "I'm sorry for any confusion. Every Zephyr 3000 comes with a 7-year warranty.",
])
def test_supported_answers_pass(answer, evidence, embedder):
    check = check_answer(clean_answer(answer), QUESTION, evidence, embedder)
    assert check.supported, check.reason


def test_a_figure_moved_to_another_fact_is_rejected(embedder):
    q = "When is the Portland shop open on Sundays?"
    ev = select_evidence(q, [HOURS], embedder)
    bad = "The Portland shop opens on Sunday at 9 a.m."
    good = "The Portland shop is open on Sunday from 11 a.m. to 4 p.m."
    assert not check_answer(bad, q, ev, embedder).supported
    assert check_answer(good, q, ev, embedder).supported


def test_clean_answer_drops_padding_and_repeats():
    draft = "I'm sorry for any confusion. It weighs 6.8 pounds. : It weighs 6.8 pounds. It is red. [1"
    assert clean_answer(draft) == "It weighs 6.8 pounds. It is red."


def test_quote_answer_cites_each_sentence(evidence):
    text = quote_answer(evidence, lambda chunk: {"c1": 1, "c2": 2}[chunk.id])
    assert text.startswith("Every Zephyr 3000 comes with a seven-year warranty.") and "[1]" in text


def test_quote_merges_sentences_of_one_source():
    ev = [Evidence("A is 1.", WARRANTY, 0.8), Evidence("B is 2.", WARRANTY, 0.79)]
    assert quote_answer(ev, lambda c: 1) == "A is 1. B is 2. [1]"


def test_version_numbers_are_checked_not_a_crash(embedder):
    # "3.5.6" is no float: the check once raised ValueError, and `eval grounding` lost its whole report.
    release = Chunk("c3", "Lumen Notes 4.9.3 needs Firefox 115 or later.", "/kb/notes.md", "Release notes", 0.6)
    question = "Which Firefox does Lumen Notes 4.9.3 need?"
    evidence = select_evidence(question, [release], embedder)
    assert check_answer("Lumen Notes 4.9.3 needs Firefox 115 or later.", question, evidence, embedder).supported
    moved = check_answer("Lumen Notes needs Firefox 4.9.3 or later.", question, evidence, embedder)
    assert not moved.supported
