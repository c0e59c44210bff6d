"""`botkit eval grounding`'s measurement (botkit.feedback.evaluation.grounding): a right fact counts
only with a citation that contains it, and out-of-scope questions count when the bot says it does
not know. A fake engine gives the model's draft; retrieval, the check and citations are real."""

from __future__ import annotations

import json

import pytest

from botkit.feedback.evaluation.grounding import evaluate_grounding, read_question_sets
from botkit.testing import FakeEngine

WARRANTY = "The Zephyr 3000 electric kettle is covered for seven years from the date of purchase."


@pytest.fixture
def warranty_bot(settings, embedder, docs):
    from botkit.dialogue import Bot

    # Whatever it is asked, the "model" drafts the warranty sentence: right for one question only.
    bot = Bot(settings, engine=FakeEngine([WARRANTY]), embedder=embedder)
    bot.knowledge.ingest(docs)
    return bot


def test_right_fact_needs_a_citation_and_out_of_scope_needs_dont_know(warranty_bot):
    questions = [
        {"question": "How long is the warranty on the Zephyr 3000?", "expected": ["seven years", "7 years"],
         "source": "warranty.md"},
        {"question": "How long is the warranty on the Millrace Burr Grinder?", "expected": ["six-year", "6 years"]},
    ]
    ticks = []
    report = evaluate_grounding(warranty_bot, questions, [{"question": "Who won the Super Bowl last year?"}],
                                on_item=lambda: ticks.append(1))
    assert len(ticks) == 3 and report["questions"] == 2 and report["out_of_scope"] == 1
    right, wrong, outside = report["details"]
    assert right["fact"] and right["cited"] and right["named_source_cited"] and right["correct"]
    assert not wrong["correct"]  # "six years" is in no source: no answer can carry it with a citation
    assert outside["dont_know"]
    assert report["correct_with_citation"] == 0.5 and report["named_source_cited"] == 0.5
    assert report["out_of_scope_dont_know"] == 1.0 and report["model"] == "fake"


def test_question_sets_default_to_the_sample_brand(tmp_path):
    questions, out_of_scope = read_question_sets(None)
    assert len(questions) >= 40 and len(out_of_scope) >= 12
    assert all(q["expected"] for q in questions)

    own = tmp_path / "questions.jsonl"
    own.write_text(json.dumps({"question": "How long is the warranty?", "expected": ["seven years"]}) + "\n")
    asked, outside = read_question_sets(own)
    assert [q["question"] for q in asked] == ["How long is the warranty?"] and outside == []  # not the sample's
    oos = tmp_path / "oos.jsonl"
    oos.write_text(json.dumps({"question": "Who won the Super Bowl?"}) + "\n")
    assert read_question_sets(own, oos)[1][0]["question"] == "Who won the Super Bowl?"
