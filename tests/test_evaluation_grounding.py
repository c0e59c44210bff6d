"""`botkit eval grounding`'s measurement (botkit.feedback.evaluation.grounding): a right fact counts
only with a citation that contains it, out-of-scope questions count when the bot says it does not
know, and each failure kind of issue 11 is counted. A fake engine gives the model's draft;
retrieval, the check and citations are real."""

from __future__ import annotations

import json

import pytest

from botkit.feedback.evaluation.grounding import answer_failures, evaluate_grounding, read_question_sets, shape_failures
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
                                on_item=ticks.append)
    assert [t["question"] for t in ticks] == [d["question"] for d in report["details"]]  # each result as it is scored
    assert report["questions"] == 2 and report["out_of_scope"] == 1
    right, wrong, outside = report["details"]
    assert right["fact"] and right["cited"] and right["named_source_cited"] and right["correct"]
    assert not wrong["correct"]  # "six years" is in no source: no answer can carry it with a citation
    assert outside["dont_know"]
    assert report["correct_with_citation"] == 0.5 and report["named_source_cited"] == 0.5
    assert report["out_of_scope_dont_know"] == 1.0 and report["model"] == "fake"
    # The draft passes the check but is warranty.md's sentence word for word: a copy, not the model's phrasing.
    assert right["grounding"] == "generated" and right["copied"]
    assert report["copied"] == 0.5 and report["model_phrased"] == 0.0


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


def test_every_sample_and_the_held_out_set_have_enough_questions():
    from pathlib import Path

    for kb, least in (("kettlebrook", 40), ("helpdesk", 40)):
        questions, out_of_scope = read_question_sets(None, kb=kb)
        assert len(questions) >= least and len(out_of_scope) >= 12, kb
    for heldout in sorted((Path(__file__).parent.parent / "bench").glob("heldout*/eval")):
        questions, out_of_scope = read_question_sets(heldout / "questions.jsonl", heldout / "out_of_scope.jsonl")
        assert len(questions) >= 30 and len(out_of_scope) >= 12
        assert len({p.suffix for p in (heldout.parent / "knowledge").iterdir()}) >= 4  # mixed formats


def test_the_expected_fact_is_found_however_the_answer_spells_its_contractions():
    from botkit.feedback.evaluation.grounding import _has

    assert _has("We don\u2019t accept cheques. [1]", ["do not accept cheques"])
    assert _has("You cannot park there.", ["can't park"])
    assert not _has("Standard fee: \u20ac40", ["\u20ac140"])
    assert not _has("We accept cheques.", ["do not accept cheques"])


@pytest.mark.parametrize("answer, kinds", [
    ("The latest I can order for next-day delivery is . [1]", ["hole"]),
    ("To see the full list inside the app, press [1]", ["hole"]),
    ("Zephyr 3000 — $129.** Our best-selling kettle [1]", ["markup"]),
    ("| Express | $9.95 | next working day | [1]", ["markup"]),
    ("See [the price list](https://example.com/prices) for details. [1]", ["markup"]),
    ("## Shipping Standard delivery takes 3-5 working days. [1]", ["markup"]),
    ("Standard delivery costs $4.95 and is free over $60. [1]", []),
    ("Yes, the Zephyr 3000 is covered for 7 years. [1]", []),
    ("The fee is waived for a [1]", ["hole"]),
    ("Child seat: Notes: ISOFIX in all groups except A [2]", []),  # a group named A, not an article
])
def test_holes_and_markup_are_seen_in_the_shown_answer(answer, kinds):
    assert shape_failures(answer) == kinds


def _result(answer, grounding="quoted", cited=(), expected=("seven years",)):
    fact = any(e in answer for e in expected)
    return {"answer": answer, "grounding": grounding, "fact": fact,
            "cited": fact and any(any(e in c for e in expected) for c in cited),
            "correct": fact and any(any(e in c for e in expected) for c in cited), "cited_texts": list(cited)}


def test_each_answer_failure_kind_is_named():
    item = {"question": "How long is the warranty?", "expected": ["seven years"]}
    chunk = "Returns are free within 30 days. The kettle is covered for seven years."
    assert answer_failures(item, _result("Returns are free within 30 days. [1]", cited=[chunk]), []) == \
        ["wrong_sentence"]
    assert answer_failures(item, _result("Returns are free within 30 days. [1]"), [chunk]) == ["wrong_sentence"]
    assert answer_failures(item, _result("Yes. [1]", cited=["Descale monthly."]), []) == ["unsupported_yes_no"]
    assert answer_failures(item, _result("I don't know.", grounding="dont-know"), [chunk]) == ["declined"]
    assert answer_failures(item, _result("It lasts seven years. [1]", cited=["Descale monthly."]), []) == \
        ["wrong_citation"]
    assert answer_failures(item, _result("It lasts seven years. [1]", cited=[chunk]), [chunk]) == []
    glued = {**item, "previous": "Is the Zephyr Mini dishwasher safe?", "kind": "standalone-after"}
    assert answer_failures(glued, _result("Wipe it clean. [1]", cited=["Wipe it clean."]), []) == ["glued_follow_up"]
    missed = {**glued, "kind": "follow-up"}
    assert answer_failures(missed, _result("Wipe it clean. [1]", cited=["Wipe it clean."]), []) == \
        ["missed_follow_up"]


def test_report_counts_failures_asks_follow_ups_in_one_conversation_and_times_answers(warranty_bot):
    questions = [
        {"question": "How long is the warranty on the Zephyr 3000?", "expected": ["seven years"]},
        {"question": "What does express shipping cost?", "expected": ["$9.95", "9.95"]},
        {"question": "and the Zephyr 3000's warranty?", "previous": "How much is express shipping?",
         "expected": ["seven years"], "kind": "follow-up"},
    ]
    report = evaluate_grounding(warranty_bot, questions, [{"question": "Who won the Super Bowl last year?"}])
    right, shipping, follow_up, outside = report["details"]
    assert right["correct"] and right["failures"] == []
    assert shipping["correct"] or shipping["failures"] or report["unexplained_misses"] == 1
    assert follow_up["previous"] == "How much is express shipping?"
    asked = warranty_bot.db.execute("select session_id from messages where content = ?", [follow_up["question"]])
    assert len(warranty_bot.sessions.history(asked.fetchone()[0])) == 4  # asked as the second turn of one session
    assert report["second_turn"] == {"asked": 1, "right": int(follow_up["correct"])}
    assert report["failures"]["out_of_scope_answered"] == (0 if outside["dont_know"] else 1)
    counted = sum(report["failures"].values())
    assert counted == sum(len(r["failures"]) for r in report["details"])
    assert report["answers_timed"] == 5 and 0 < report["seconds_p50"] <= report["seconds_p95"]


def test_kb_flag_errors_are_one_line(botkit_cli, tmp_path):
    unknown = botkit_cli("eval", "grounding", "--kb", "nope", home=tmp_path, check=False)
    assert unknown.returncode == 1 and unknown.stderr.strip().startswith("error: unknown sample knowledge base")
    both = botkit_cli("eval", "grounding", "--kb", "helpdesk", "--questions", "q.jsonl", home=tmp_path, check=False)
    assert both.returncode == 1 and "leave out --questions" in both.stderr and "Traceback" not in both.stderr


def test_a_sample_is_measured_in_a_throwaway_home_with_its_own_brand(settings, tiny_engine, embedder):
    from botkit.database import open_database
    from botkit.feedback.evaluation.grounding import FAILURE_KINDS, evaluate_samples

    report = evaluate_samples(["kettlebrook"], settings, engine=tiny_engine, embedder=embedder)["kettlebrook"]
    assert report["kb"] == "kettlebrook" and report["questions"] == 41 and report["out_of_scope"] == 12
    assert set(report["failures"]) == set(FAILURE_KINDS) and report["answers_timed"] == 53
    assert sum(report["failures"].values()) == sum(len(r["failures"]) for r in report["details"])
    assert report["right"] + report["unexplained_misses"] <= 41 and report["seconds_p50"] <= report["seconds_p95"]
    declined = [r["answer"] for r in report["details"] if r["grounding"] == "dont-know"]
    assert all("help@kettlebrook.com" in answer for answer in declined)  # the sample's brand, not the generic one
    assert not open_database(settings.database_path)["knowledge_files"].count  # the user's home is untouched


def test_a_citation_contains_a_fact_that_its_section_title_states():
    # A quote for "what does E-204 mean" says its heading; the citation shows that heading as its title.
    from types import SimpleNamespace

    from botkit.feedback.evaluation.grounding import score_reply
    from botkit.replies import Citation

    cited = Citation(1, "/kb/errors.txt", "Error codes › E-204 Device limit reached", "c1",
                     "The account is signed in on as many devices as its plan allows.", 0.6)
    reply = SimpleNamespace(text="E-204 Device limit reached: The account is signed in on as many devices as its "
                                 "plan allows. [1]", citations=[cited], grounding="quoted", draft="", check="")
    item = {"question": "The app shows error E-204, what does it mean?", "expected": ["device limit"]}
    assert score_reply(item, reply)["correct"]
    uncited = SimpleNamespace(**{**vars(reply), "citations": [Citation(1, "/kb/a.txt", "Other", "c2", "x", 0.5)]})
    assert not score_reply(item, uncited)["correct"]


def _reply(text, grounding="generated"):
    from types import SimpleNamespace

    from botkit.replies import Citation

    chunk = ("Every Kettlebrook product has a warranty. " + WARRANTY
             + " Accessories are covered by a one-year warranty.")
    return SimpleNamespace(text=text, grounding=grounding, draft=text, check="",
                           citations=[Citation(1, "/kb/warranty.md", "Warranty", "c1", chunk, 0.7)])


@pytest.mark.parametrize("answer, copied", [
    (WARRANTY + " [1]", True),  # the source sentence word for word
    ("Yes, the Zephyr 3000 electric kettle is covered for seven years from the date of purchase [1].", True),
    ("The Zephyr 3000 electric kettle is covered for 7 years from the date of purchase. [1]", True),  # one word
    ("The Zephyr 3000 electric kettle is covered for seven years. [1]", True),  # the sentence cut short
    ("Your Zephyr 3000 comes with a seven-year warranty, counted from the day you bought it. [1]", False),
    ("Seven years: the Zephyr 3000's warranty starts when you buy it. [1]", False),
])
def test_a_model_phrased_answer_that_restates_a_source_sentence_is_counted_as_copied(answer, copied):
    from botkit.feedback.evaluation.grounding import score_reply

    item = {"question": "How long is the Zephyr 3000's warranty?", "expected": ["seven years", "7 years", "seven-year"]}
    assert score_reply(item, _reply(answer))["copied"] is copied
    assert score_reply(item, _reply(answer, grounding="quoted"))["copied"] is False  # a quote is counted as quoted
