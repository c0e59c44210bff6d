"""`botkit eval compare`: a tiny base against a tiny DPO version, scored by a tiny reward model; the
pairs queue for humans under the names the promotion gate matches, and the gate opens once people
have judged enough of them in the challenger's favour."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from botkit.config import load_settings, save_setting
from botkit.errors import BotkitError
from botkit.feedback.evaluation.compare import compare_versions, wilson_interval
from botkit.feedback.registry import ModelRegistry, active_label, version_label
from botkit.feedback.store import RankingStore
from botkit.feedback.training.config import load_config
from botkit.feedback.training.dpo import DPORunConfig, train_dpo
from botkit.feedback.training.reward import RewardRunConfig, train_reward_model
from botkit.prompting.brand import sample_brand_dir

PROMPTS = ["How much is the Zephyr 3000?", "How long is the Zephyr 3000 warranty?", "How much water does it hold?",
           "How long does shipping to Canada take?", "How much is express shipping?"]

SAMPLE_KNOWLEDGE = sample_brand_dir() / "knowledge"


@pytest.fixture
def versions(settings, tiny_model_dir, tiny_bot, tmp_path, polite_vs_shouting):
    """The tiny base as the active model, a 2-step DPO version of it, a 2-step reward model and a
    small knowledge base (without one every answer is the same canned reply)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("zephyr-3000.md", "shipping.md"):
        shutil.copy(SAMPLE_KNOWLEDGE / name, docs / name)
    tiny_bot.knowledge.ingest(docs)
    save_setting("model", str(tiny_model_dir))
    pairs = polite_vs_shouting(12)
    train_dpo(load_config(DPORunConfig, model=str(tiny_model_dir), max_steps=2, learning_rate=5e-2,
                          max_length=96, max_prompt_length=48), pairs, "tiny-dpo", source="test")
    train_reward_model(load_config(RewardRunConfig, max_steps=2, max_length=64, max_prompt_length=32), pairs,
                       "tiny-rm", source="test")
    return str(tiny_model_dir), "tiny-dpo"


def rows(prompts=PROMPTS):
    return [{"prompt": p, "plugin": None, "options": {}} for p in prompts]


def test_wilson_interval_is_bounded_and_honest_at_the_extremes():
    low, high = wilson_interval(12, 12)
    assert 0.7 < low < 1 and high == 1.0  # 12 of 12 is not proof of a 100% win rate
    low, high = wilson_interval(6, 12)
    assert low < 0.5 < high and abs((low + high) / 2 - 0.5) < 1e-9


def test_compare_reports_win_rate_rewards_and_length_and_queues_pairs(versions, settings, embedder):
    base, challenger = versions
    report = compare_versions(base, challenger, rows(), settings=settings, embedder=embedder)
    assert report["reward_model"] == "tiny-rm"  # the newest reward version by default
    assert report["prompts"] == len(PROMPTS) and report["wins"] + report["losses"] + report["ties"] == len(PROMPTS)
    low, high = report["ci"]
    assert 0 <= low <= report["win_rate"] <= high <= 1
    assert all(isinstance(v, float) for v in report["mean_reward"].values())
    length = report["length"]
    assert length["mean_chars_a"] > 0 and length["mean_chars_b"] > 0
    assert length["length_matched_pairs"] <= len(PROMPTS)
    # The pairs are queued under the labels the leaderboard shows and the promotion gate matches.
    assert report["a"] == active_label(load_settings()) and report["b"] == version_label(challenger)
    store = RankingStore.open(settings)
    queued = list(store.db.query(
        "SELECT a.model_version AS a, b.model_version AS b, p.origin FROM pairs p JOIN responses a ON a.id = p.a_id"
        " JOIN responses b ON b.id = p.b_id"))
    assert all({q["a"], q["b"]} == {report["a"], report["b"]} and q["origin"] == "generate" for q in queued)
    # Only pairs worth a person's time are queued: the tiny random models' drafts fail the grounding
    # check, so their answers are scored here but not queued, and the report says why.
    skipped = report["skipped_pairs"]
    assert len(queued) == report["queued_pairs"] == len(PROMPTS) - sum(skipped.values())
    assert skipped["identical"] == report["compared"]["identical"]
    assert report["queued_pairs"] == 0  # the tiny models' answers are quotes of the sources: identical
    for item in report["items"]:
        assert (item["pair_id"] is None) == (item["skipped"] is not None)
        if item["compared"] == "identical":
            assert item["b_score"] == 0.5 and item["skipped"] == "identical"
        assert {item["a_text"], item["b_text"]} == {store.response(item[k])["text"] for k in ("a_id", "b_id")}


def test_the_gate_blocks_until_humans_prefer_the_challenger(versions, settings, embedder):
    base, challenger = versions
    report = compare_versions(base, challenger, rows(), settings=settings, embedder=embedder)
    assert report["gate"]["judgements"] == 0 and not report["gate"]["passed"]
    registry = ModelRegistry.open(settings)
    with pytest.raises(BotkitError, match="promotion blocked: .*0 human judgement"):
        registry.promote(challenger)

    store = RankingStore.open(settings)
    store.add_annotator("ana")
    # The tiny models' answers are the same quotes, so none was queued: people compare answers of the
    # two versions another way (e.g. the chat's Compare), which is what the gate counts.
    pairs = [store.add_pair(*(store.log_response(item["prompt"], f"{side}: {item['a_text']}", model=report[side])
                              for side in ("a", "b")), origin="compare") for item in report["items"]]
    assert len(pairs) >= 2
    for n, pair_id in enumerate(pairs):  # ana prefers the challenger, except in the first pair
        pair = store.pair(pair_id)
        challenger_side = "a" if store.response(pair["a_id"])["model_version"] == report["b"] else "b"
        store.record_comparison(pair_id, "ana", challenger_side if n else {"a": "b", "b": "a"}[challenger_side])
    share = (len(pairs) - 1) / len(pairs)
    # The settings hold the thresholds; flags (here: arguments) override them.
    save_setting("promotion_min_judgements", len(pairs) + 1)
    with pytest.raises(BotkitError, match=f"has {len(pairs)} human judgement.*needs {len(pairs) + 1}"):
        registry.promote(challenger)
    save_setting("promotion_min_judgements", len(pairs))
    with pytest.raises(BotkitError, match=f"won {share:.0%} of {len(pairs)} judgements.*needs 90%"):
        registry.promote(challenger, min_win_rate=0.9)
    promoted = registry.promote(challenger)  # the setting's 50% is met
    assert not promoted["forced"] and promoted["gate"]["win_rate"] == pytest.approx(share)
    assert load_settings().model == challenger


def test_cli_compare_json_and_missing_reward_model(settings, tiny_model_dir, tmp_path, write_jsonl):
    from botkit.cli import app

    write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": p} for p in PROMPTS[:2]])
    result = CliRunner().invoke(app, ["eval", "compare", str(tiny_model_dir), "default", "--prompts",
                                      str(tmp_path / "prompts.jsonl"), "--json"])
    assert result.exit_code != 0 and "botkit train rm" in str(result.exception)


def test_cli_compare_prints_json(versions, tmp_path, write_jsonl):
    from botkit.cli import app

    base, challenger = versions
    write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": p} for p in PROMPTS[:2]])
    result = CliRunner().invoke(app, ["eval", "compare", base, challenger, "--prompts", str(tmp_path / "prompts.jsonl"),
                                      "--reward-model", "tiny-rm", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["prompts"] == 2 and report["reward_model"] == "tiny-rm" and "Wilson" in report["ci_method"]
    text = CliRunner().invoke(app, ["eval", "compare", base, challenger, "--prompts", str(tmp_path / "prompts.jsonl")])
    assert text.exit_code == 0 and "win rate of B" in text.output and "Wilson interval" in text.output, text.output
