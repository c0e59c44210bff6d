"""The subject-line plugin: limits hold on a tiny random model and on the real default model."""

import pytest

from botkit.default_plugins.subject_lines import spam_flags


def test_tiny_model_variants_respect_n_and_the_60_character_limit(tiny_bot):
    for n in (1, 4):
        result = tiny_bot.run_task("subject_lines", "Spring sale on kettles", n=n)
        rows = result.output
        # A random model's lines rarely pass the copy checks: fewer rows then, and the reply says why.
        assert len(rows) == n or (len(rows) < n and "passed the checks" in result.text)
        assert all(0 < len(r["subject"]) <= 60 and r["preview"] is None for r in rows)
        assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_preview_text_and_same_seed_same_lines(tiny_bot):
    rows = tiny_bot.run_task("subject_lines", "A kettle recycling program", n=2, preview=True, seed=3).output
    assert all(isinstance(r["preview"], str) and len(r["preview"]) <= 90 for r in rows)
    again = tiny_bot.run_task("subject_lines", "A kettle recycling program", n=2, preview=True, seed=3).output
    assert again == rows


def test_spam_triggers_are_flagged():
    assert set(spam_flags("FREE kettle, act now!!! 100% guaranteed winner")) >= {
        "free", "act now", "!!!", "100%", "guarantee", "winner", "all caps: FREE"}
    assert spam_flags("Freedom to brew, steady mornings") == []
    assert spam_flags("Pay in four interest-free installments") == []  # a plain term, not a giveaway


def test_spammy_candidate_is_flagged_and_ranked_below_a_clean_one(task_runner):
    # A copy model other than the default one: its lines are shown as variants (the default's are ideas).
    task_runner.bot.settings.copy_model = "a-stronger/model"
    task_runner.bot._copy_engine = task_runner.engine
    task_runner.engine.responses = ["Free kettle giveaway, act now!!!", "A kettle you keep for years"]
    rows = [r for r in task_runner("subject_lines", "kettle giveaway", n=3) if r["written_by"] == "model"]
    assert [r["subject"] for r in rows] == ["A kettle you keep for years", "Free kettle giveaway, act now!!!"]
    assert rows[0]["spam_flags"] == [] and {"free", "act now", "!!!"} <= set(rows[1]["spam_flags"])


@pytest.mark.e2e
def test_default_model_end_to_end_keeps_the_limits(settings, default_engine, embedder):
    from botkit.dialogue import Bot

    bot = Bot(settings, engine=default_engine, embedder=embedder)
    result = bot.run_task("subject_lines", "Launch of the Zephyr Mini, a small travel kettle", n=3)
    rows = result.output
    # Only variants that pass the copy checks are shown; when fewer pass, the reply says so.
    assert len(rows) == 3 or "passed the checks" in result.text
    assert len({r["subject"].lower() for r in rows}) == len(rows)
    assert all(0 < len(r["subject"]) <= 60 and "\n" not in r["subject"] for r in rows)
