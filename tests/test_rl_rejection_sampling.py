"""Rejection sampling for the RL warm start: of a chat's sampled drafts only those the real grounding check shows in
the model's own words, saying and citing the fact, whole and short, are kept, cut to the sentence chat shows;
copies, guesses, uncited and cut-off drafts are not; the kept rows are the serving chats, whole."""

from __future__ import annotations

import json

import pytest

from botkit.decoding import DecodingOptions
from botkit.feedback.training.phrasing import phrasing_target
from botkit.feedback.training.rejection_sampling import sample_drafts, sampled_examples, shown_part, top_tier
from botkit.feedback.training.rewards import grounded_prompts

WARRANTY = {"question": "How long is the warranty on the Zephyr 3000 kettle?", "expected": ["seven years"]}


@pytest.fixture
def warranty(bot):
    (row,) = grounded_prompts(bot, [WARRANTY])
    return row


def test_only_drafts_the_reward_pays_in_full_are_kept_cut_to_what_chat_shows(bot, warranty):
    good = phrasing_target(warranty, bot.embedder)  # e.g. "Your Zephyr 3000 is covered for seven years [1]."
    assert good
    data = json.loads(warranty["sources"])
    holder = next(s for s in data["sources"] if "seven years" in s["chunk"]["text"])
    copy = f"{next(s for s in holder['chunk']['text'].split('. ') if 'seven years' in s)}. [{holder['n']}]"
    drafts = [
        f"{good} It also covers the kettle's lid and cord for life.",  # the first sentence is what chat shows
        good,  # the same shown answer again: kept once
        copy,  # a source sentence word for word
        good.replace(f" [{holder['n']}]", ""),  # no citation
        good.replace("seven", "eleven"),  # a guess the check does not pass
        " ".join(good.split()[:4]),  # cut off at the token limit
    ]
    kept = top_tier(warranty, drafts, bot.embedder, keep=3)
    assert kept == [good]
    assert shown_part(drafts[0]) == good


def test_kept_drafts_become_sft_rows_on_the_serving_chat(bot, warranty):
    good = phrasing_target(warranty, bot.embedder)
    rows, counts = sampled_examples([warranty], [[good, "I don't know."]], bot.embedder, progress=False)
    assert counts == {"sampled": 2, "kept": 1, "chats_with_kept": 1, "chats": 1}
    assert rows[0]["prompt"] == bot.grounded_chat(WARRANTY["question"]).messages
    assert rows[0]["completion"] == good


def test_drafts_are_sampled_k_per_chat_and_the_same_on_a_rerun(warranty, tiny_engine):
    options = DecodingOptions(strategy="sample", temperature=1.0, max_new_tokens=6, seed=3)
    drafts = sample_drafts(tiny_engine, [warranty], 3, options, progress=False)
    assert len(drafts) == 1 and len(drafts[0]) == 3
    assert sample_drafts(tiny_engine, [warranty], 3, options, progress=False) == drafts


@pytest.mark.slow  # minutes on 2 shared cores: ingest, two warm-start SFT rounds around the sampling, one GRPO step
def test_train_rl_samples_from_the_first_warm_start_and_continues_it(
        settings, tiny_model_dir, embedder, tiny_engine, sample_knowledge, write_jsonl, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from botkit.cli import app
    from botkit.dialogue import Bot
    from botkit.feedback.registry import ModelRegistry

    Bot(settings, engine=tiny_engine, embedder=embedder).knowledge.ingest(sample_knowledge)
    monkeypatch.setenv("BOTKIT_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BOTKIT_ENGINE", "transformers")
    asked = [WARRANTY, {"question": "How heavy is the big four-slice toaster?"},
             {"question": "What does the Zephyr Mini cost?"}, {"question": "How much water does the Zephyr 3000 hold?"},
             {"question": "How fast do you answer emails?"}, {"question": "When is the Portland store open?"},
             {"question": "How long do you keep a record of my chat conversations?"},
             {"question": "Is the Zephyr Mini good for travel?"}]
    questions = write_jsonl(tmp_path / "questions.jsonl", asked)
    done = CliRunner().invoke(app, ["train", "rl", "--reward", "grounding", "--data", str(questions), "--out", "s-rl",
                                    "--test_fraction", "0.25", "--warm_start_epochs", "1", "--warm_start_samples", "2",
                                    "--model", str(tiny_model_dir), "--max-steps", "1", "--num_generations", "2",
                                    "--per_device_train_batch_size", "2", "--max_completion_length", "8", "--json"])
    assert done.exit_code == 0, done.output
    metrics = json.loads(done.stdout)["metrics"]
    registry = ModelRegistry.open(settings)
    assert registry.get("s-rl-warm1")["method"] == "sft" and registry.get("s-rl-warm")["parent"] == "s-rl-warm1"
    assert registry.get("s-rl")["parent"] == "s-rl-warm"  # GRPO continued the second round's adapter
    assert metrics["warm_start_sampled"] == 2 * metrics["warm_start_chats"]
    assert (settings.home / "models" / "s-rl-warm1" / "kept_drafts.jsonl").exists()
