"""Phrasing targets for the RL warm start: built from the source sentence holding the fact, each passes the
real grounding check in words the copy test does not count as a copy; a row no rephrasing can answer gets
none; the warm start's SFT rows are the serving chats, whole."""

from __future__ import annotations

import json

import pytest

from botkit.feedback.evaluation.grounding import COPIED_SHARE, copied_share
from botkit.feedback.training.phrasing import candidates, phrasing_examples, phrasing_target, question_subjects
from botkit.feedback.training.rewards import grounded_prompts, judge_draft

QUESTIONS = [
    {"question": "How long is the warranty on the Zephyr 3000 kettle?", "expected": ["seven years"]},
    {"question": "What's the price of the grinder and gooseneck kettle bundle?", "expected": ["$219"]},
    {"question": "How much do you charge for faster delivery?", "expected": ["$14.95"]},
]


@pytest.fixture
def rows(bot):
    return grounded_prompts(bot, QUESTIONS)


def test_a_target_passes_the_check_in_words_that_are_no_copy(bot, rows):
    warranty = next(r for r in rows if "warranty" in r["question"])
    target = phrasing_target(warranty, bot.embedder)
    assert target and target.endswith("].")
    data = json.loads(warranty["sources"])
    verdict = judge_draft(data, target, bot.embedder)
    assert verdict["grounding"] == "generated" and verdict["says_fact"] and verdict["cites_fact"]
    texts = [s["chunk"]["text"] for s in data["sources"]]
    assert copied_share(target, texts) < COPIED_SHARE
    assert all(target.split(" [")[0] not in text for text in texts)  # no source sentence restated


def test_a_row_whose_fact_no_source_sentence_says_gets_no_target(bot, rows):
    warranty = next(r for r in rows if "warranty" in r["question"])
    data = json.loads(warranty["sources"])
    unanswerable = {**warranty, "sources": json.dumps({**data, "expected": ["eleven years"]})}
    assert phrasing_target(unanswerable, bot.embedder) is None


def test_rephrasings_use_the_questions_words_the_brands_we_and_drop_what_was_not_asked():
    says_seven = lambda text: "seven" in text  # noqa: E731
    made = candidates("The Zephyr 3000 electric kettle is covered for seven years from the date of purchase.",
                      says_seven, "Kettlebrook", "How long is the warranty on the Zephyr 3000 kettle?")
    assert "Your Zephyr 3000 electric kettle is covered for seven years" in made
    assert any(c.endswith("seven years") for c in made)  # the clause the question did not ask about dropped
    assert not any(c.startswith("The warranty") for c in made)  # the question's words name another subject
    made = candidates("Kettlebrook does not run Black Friday sales.", lambda t: "not run" in t, "Kettlebrook")
    assert made[0] == "We do not run Black Friday sales"
    made = candidates("The Brookside 4-Slice Toaster weighs 6.8 pounds.", lambda t: "6.8" in t, "Kettlebrook",
                      "How heavy is the big four-slice toaster?")
    # Named first: the check can tell what a name is about, not what "It" stands for.
    assert made[:3] == ["The big four-slice toaster weighs 6.8 pounds",
                        "Your Brookside 4-Slice Toaster weighs 6.8 pounds", "It weighs 6.8 pounds"]
    # "members" is the subject's noun here, not a verb "It" could take.
    made = candidates("Kettlebrook Circle members earn 50 bonus points in their birthday month.",
                      lambda t: "50" in t, "Kettlebrook")
    assert not any(c.startswith(("It members", "In their birthday month, it")) for c in made)


def test_the_subject_keeps_the_words_that_name_it():
    # "Your Zephyr 3000 costs $18" would say the kettle costs what its lid costs.
    made = candidates("The Zephyr 3000 replacement lid costs $18.", lambda t: "$18" in t, "Kettlebrook",
                      "How much is a replacement lid for the Zephyr 3000?")
    assert "Your Zephyr 3000 costs $18" not in made
    assert "A replacement lid costs $18" in made and "Your Zephyr 3000 replacement lid costs $18" in made
    # The question's words name the subject only by the same head: the Zephyr Mini's capacity is not the Zephyr Mini.
    made = candidates("The Zephyr Mini draws 1,000 watts.", lambda t: "1,000" in t, "Kettlebrook",
                      "What's the Zephyr Mini's capacity?")
    assert not any("capacity" in c for c in made)
    assert question_subjects("How long does the Heron keep water hot?", "keeps water hot for up to 60 minutes") == [
        "The Heron"]


def test_a_leading_clause_closes_the_answer_and_a_closing_phrase_leads_it():
    sentence = 'If the Heron Gooseneck Kettle display shows "E2", the kettle is on its base with no water inside.'
    made = candidates(sentence, lambda t: "no water" in t, "Kettlebrook", "The Heron shows E2. What does that mean?")
    moved = 'The kettle is on its base with no water inside if the Heron Gooseneck Kettle display shows "E2"'
    assert moved in made
    assert copied_share(moved, [sentence]) < COPIED_SHARE  # the same words, in the answer's own order
    made = candidates("Kettlebrook keeps live chat transcripts for 90 days and then deletes them.",
                      lambda t: "90 days" in t, "Kettlebrook", "How long do you keep my chat conversations?")
    assert "We keep live chat transcripts for 90 days" in made
    assert "For 90 days, we keep live chat transcripts" in made
    assert not any(c.startswith("At least") for c in candidates(
        "The Zephyr 3000 must hold at least 0.5 liters of water.", lambda t: "0.5" in t, "Kettlebrook"))


def test_a_fact_behind_a_leading_clause_gets_a_target_the_check_passes(settings, tiny_engine, embedder,
                                                                       sample_knowledge):
    from botkit.dialogue import Bot

    bot = Bot.from_config(settings, engine=tiny_engine, embedder=embedder)
    bot.knowledge.ingest(sample_knowledge)
    row = grounded_prompts(bot, [{"question": "The Heron shows E2. What does that mean?", "expected": ["no water"]}])[0]
    target = phrasing_target(row, bot.embedder)
    assert target and target.startswith("The kettle is on its base with no water inside if ")
    assert judge_draft(json.loads(row["sources"]), target, bot.embedder)["phrased"]


def test_the_warm_start_trains_on_the_serving_chat_whole(bot, rows, tiny_engine):
    from botkit.feedback.training.sft import SFTRunConfig, sft_examples

    examples, without = phrasing_examples(rows, bot.embedder)
    assert examples and len(examples) + without == len(rows)
    config = SFTRunConfig(output_dir="unused", bf16=False, max_prompt_length=16)  # far shorter than any grounded chat
    shaped = sft_examples(examples, tiny_engine.tokenizer, config)
    for example, row in zip(shaped, examples):
        assert example["prompt"] == bot.grounded_chat(row["question"]).messages
        assert example["completion"] == [{"role": "assistant", "content": row["completion"]}]


@pytest.mark.slow  # minutes on 2 shared cores: ingest, a warm start, one GRPO step, the held-out answers
def test_train_rl_with_a_warm_start_registers_it_and_continues_its_adapter(
        settings, tiny_engine, tiny_model_dir, embedder, sample_knowledge, write_jsonl, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from botkit.cli import app
    from botkit.dialogue import Bot
    from botkit.feedback.registry import ModelRegistry

    Bot(settings, engine=tiny_engine, embedder=embedder).knowledge.ingest(sample_knowledge)
    monkeypatch.setenv("BOTKIT_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BOTKIT_ENGINE", "transformers")
    # Questions the sample's documents answer in one rephrasable sentence (a warm start needs 4 targets).
    asked = ["How heavy is the big four-slice toaster?", "What does the Zephyr Mini cost?",
             "How much water does the Zephyr 3000 hold?", "How fast do you answer emails?",
             "How long do you keep a record of my chat conversations?", "When is the Portland store open?",
             "How do I know when the Zephyr 3000 is heating?", "Is the Zephyr Mini good for travel?"]
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS + [{"question": q} for q in asked[:2]])
    extra = write_jsonl(tmp_path / "more.jsonl", [{"question": q} for q in asked[2:]])
    done = CliRunner().invoke(app, ["train", "rl", "--reward", "grounding", "--data", str(questions), "--out", "w-rl",
                                    "--train_questions", str(extra), "--warm_start_epochs", "1",
                                    "--model", str(tiny_model_dir), "--max-steps", "1", "--num_generations", "2",
                                    "--per_device_train_batch_size", "2", "--max_completion_length", "8", "--json"])
    assert done.exit_code == 0, done.output
    version = json.loads(done.stdout)
    registry = ModelRegistry.open(settings)
    assert version["metrics"]["warm_start_version"] == "w-rl-warm" and registry.get("w-rl-warm")["method"] == "sft"
    assert registry.get("w-rl")["parent"] == "w-rl-warm"  # GRPO continued the warm start's adapter
    held = {json.loads(line)["question"] for line in (settings.home / "models" / "w-rl" / "heldout.jsonl").open()}
    warm_rows = (settings.home / "models" / "w-rl-warm" / "heldout.jsonl").read_text()
    assert not any(q in warm_rows for q in held)  # the warm start never sees a held-out question
