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


def bakery(task_runner):
    """A made-up brand with only a profile: no copy archive, none of its words in the briefs below."""
    from botkit.prompting.brand import BrandProfile

    task_runner.bot.brand = BrandProfile(name="Oakhurst Bakery", tagline="Bread worth getting up for.",
                                         words_to_use=["baked daily", "by hand"], sample_copy=["Rye by 7 a.m."])
    return task_runner


def test_a_subject_line_needs_no_brand_word_and_takes_no_closing(task_runner):
    # The From field names the brand; the 60 characters go to the offer. A brand without an archive still
    # gets its lines, offer first among them, and none ends on a closing or the tagline.
    rows = bakery(task_runner)("subject_lines", "Bread-baking classes on Sunday mornings, $45 a seat", n=3)
    assert [r["subject"] for r in rows] == ["Bread-baking classes on Sunday mornings, $45 a seat",
                                            "$45 a seat: bread-baking classes on Sunday mornings"]
    report = task_runner.bot.router.tasks["subject_lines"].evaluate(
        task_runner.bot, [{"text": "Day-old bread at half price after 4 p.m."}], n=3)
    assert report["variants_shown"] == 2 and report["shown_passing_every_check"] == 1.0
    # Plain "free" is the offer, not spam: shown first like any clean line.
    rows = task_runner("subject_lines", "Free delivery on orders over $40 this week", n=1)
    assert rows[0]["spam_flags"] == []


def test_spam_is_shouting_and_giveaways_not_a_plain_free():
    assert spam_flags("Free shipping on every order over $75") == []
    assert "free" in spam_flags("Get a free gift today") and "free" in spam_flags("Delivery is free!")
