"""The ad copy, social rewrite and SEO meta plugins: every variant shown keeps the limits for every
option value on a tiny random model (which writes no usable copy: fewer variants and a note say so),
the keyword and hashtag rules on canned replies, and on the real default model."""

import json
import re

import pytest

from botkit.default_plugins.ad_copy import CHANNEL_LIMITS
from botkit.default_plugins.seo_meta import fit_meta, with_keyword
from botkit.default_plugins.social_rewrite import PLATFORMS, keyword_hashtags, with_hashtags
from botkit.errors import BotkitError
from botkit.tasks.copy_checks import CHECKS

POST = "We are pleased to announce that our repair service now covers every Kettlebrook toaster, whatever its age."
CLOSING_HASHTAGS = re.compile(r"\n\n(#[a-z]\w*)( #[a-z]\w*){0,4}$")


def assert_shown_or_said(result, n):
    """`n` variants, or fewer with a note in the chat text naming the checks that failed."""
    assert len(result.output) == n or (len(result.output) < n and re.search("pass(ed)? the checks", result.text)
                                       and "failed: " in result.text)


def stronger_copy_model(runner):
    """Name another copy model than the default one (the fake engine stands in): its lines are variants,
    where the default model's are only ideas."""
    runner.bot.settings.copy_model = "a-stronger/model"
    runner.bot._copy_engine = runner.engine


def assert_ranked(rows):
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


@pytest.mark.parametrize("channel, n", [("search", 1), ("social", 3), ("display", 2)])
def test_ad_copy_keeps_each_channels_limits(tiny_bot, channel, n):
    headline_limit, description_limit = CHANNEL_LIMITS[channel]
    result = tiny_bot.run_task("ad_copy", "The Zephyr 3000 kettle, seven-year warranty", channel=channel, n=n)
    rows = result.output
    assert_shown_or_said(result, n)
    assert all(0 < len(r["headline"]) <= headline_limit and 0 < len(r["description"]) <= description_limit
               for r in rows)
    assert_ranked(rows)


@pytest.mark.parametrize("platform", ["x", "linkedin", "instagram"])
def test_social_rewrite_keeps_each_platforms_limit(tiny_bot, platform):
    result = tiny_bot.run_task("social_rewrite", POST, platform=platform, n=2, seed=1)
    rows = result.output
    assert_shown_or_said(result, 2)
    assert all(0 < len(r["post"]) == r["characters"] <= PLATFORMS[platform][0] for r in rows)
    if platform == "instagram":
        assert all(CLOSING_HASHTAGS.search(r["post"]) for r in rows), [r["post"][-80:] for r in rows]
    assert_ranked(rows)


@pytest.mark.parametrize("keyword", ["", "returns"])
def test_seo_meta_keeps_the_length_and_the_keyword(tiny_bot, keyword):
    result = tiny_bot.run_task("seo_meta", "Our returns page: any item within 30 days", keyword=keyword, n=3)
    rows = result.output
    assert_shown_or_said(result, 3)
    assert all(len(r["description"]) == r["characters"] <= 158 for r in rows)
    if any(r["characters"] >= 120 for r in rows):
        assert all(r["characters"] >= 120 for r in rows)
    assert all(keyword in r["description"].lower() for r in rows)


@pytest.mark.parametrize("task, options, message", [
    ("ad_copy", {"channel": "tv"}, "bad option channel for ad_copy"),
    ("social_rewrite", {"platform": "tiktok"}, "bad option platform for social_rewrite"),
    ("seo_meta", {"n": 0}, "bad option n for seo_meta"),
    ("seo_meta", {"tone": "loud"}, "unknown option 'tone' for seo_meta (options: keyword, n, seed, ideas)"),
])
def test_bad_option_values_are_clear_errors(task_runner, task, options, message):
    with pytest.raises(BotkitError) as info:
        task_runner(task, "kettles", **options)
    assert message in str(info.value) and task_runner.engine.calls == []


def test_seo_meta_drops_candidates_without_the_keyword_or_adds_it(task_runner):
    stronger_copy_model(task_runner)
    long_with = ("Easy returns: send any kettle, toaster or grinder back within 30 days for a full refund. We pay "
                 "the postage, and that is all there is to it.")
    long_without = ("Changed your mind? Send any kettle, toaster or grinder back within 30 days for a full refund, and "
                    "we will pay for the postage too.")
    brief = "The returns page: any kettle, toaster or grinder back within 30 days"
    task_runner.engine.responses = [long_with, long_without]
    assert [r["description"] for r in task_runner("seo_meta", brief, keyword="returns", n=2)] == [long_with]
    task_runner.engine.responses = [long_without]
    (row,) = task_runner("seo_meta", brief, keyword="free returns", n=1)
    assert row["description"].startswith("Free returns: Changed your mind?") and row["characters"] <= 158


def test_seo_meta_drops_short_candidates_when_long_ones_exist(task_runner):
    stronger_copy_model(task_runner)
    task_runner.engine.responses = ["Kettles that last.",
                                    "Kettlebrook makes kettles, toasters and grinders built to last for years: "
                                    "standard screws, parts we still sell and a seven-year warranty on every kettle."]
    rows = task_runner("seo_meta", "Home page: Kettlebrook kettles, toasters and grinders, a seven-year warranty", n=2)
    assert len(rows) == 1 and rows[0]["characters"] >= 120


def test_meta_and_hashtag_helpers():
    text = "The Zephyr 3000 kettle remembers five temperatures. " * 4  # 208 characters: its first three sentences
    assert fit_meta(f"Meta description: {text}") == text.strip()[:155] and len(fit_meta(text)) <= 158
    assert fit_meta("A kettle " * 20) == ("A kettle " * 20).strip()  # no sentence ends: kept whole, to be dropped
    assert with_keyword("Kettles built to last", "warranty") == "Warranty: Kettles built to last"
    # Tags a person would follow: names, the brand's own tags the text uses, the brand; never a verb of
    # the brief ("#closes #stays", "#costs #ships": a reader's junk).
    # Nor a day or a month: "#march #monday" is no tag anyone follows.
    assert keyword_hashtags("Holiday hours: every Acme shop closes at 3 p.m. and stays closed on Sunday",
                            brand="Acme") == ["#acme"]
    assert keyword_hashtags("A spare lid for the Vega kettle costs $12 and ships in two days", brand="Acme",
                            known=["#tea", "#kettle", "#giftcard"]) == ["#vega", "#kettle", "#acme"]
    assert keyword_hashtags("Gift cards, sent the same day", known=["#giftcard"]) == ["#giftcard"]
    assert with_hashtags("Nothing to tag here.", "nothing to tag") == "Nothing to tag here."
    assert with_hashtags("New colors! #kettlebrook #tea #colors", POST).endswith("\n\n#kettlebrook #tea #colors")
    tagged = with_hashtags("A long post. " * 160, POST)
    assert tagged.startswith("A long post. " * 159) and CLOSING_HASHTAGS.search(tagged)  # never cut to fit


def test_chat_commands_run_each_plugin_and_format_it(task_runner):
    stronger_copy_model(task_runner)
    task_runner.engine.responses = ["Built to last for years", "Kettles that stay, for years"]  # an ad takes two
    for command, plugin in [("/adcopy n=1 channel=display", "ad_copy"),
                            ("/rewrite n=1 platform=instagram", "social_rewrite"),
                            ("/meta n=1 keyword=kettle", "seo_meta")]:
        reply = task_runner.bot.respond(f"{command} The Zephyr 3000 kettle, built to last")
        assert reply.plugin == plugin and reply.text.startswith("1. ")
    task_runner.engine.responses = ["Built to last for years"]
    reply = task_runner.bot.respond("/meta n=1 keyword=kettle The Zephyr 3000 kettle, built to last")
    assert reply.text.startswith("1. Kettle: Built to last for years _(")  # the keyword leads a line without it


@pytest.fixture
def real_bot(settings, default_engine, embedder):
    from botkit.dialogue import Bot

    return Bot(settings, engine=default_engine, embedder=embedder)


@pytest.mark.e2e
def test_default_model_ad_copy_keeps_search_limits(real_bot):
    brief = "The Zephyr 3000 kettle: five temperature presets, seven-year warranty"
    result = real_bot.run_task("ad_copy", brief, n=2)
    rows = result.output  # the 135M model rarely writes a line that passes every check: then it says so
    assert_shown_or_said(result, 2)
    assert all(0 < len(r["headline"]) <= 30 and 0 < len(r["description"]) <= 90 for r in rows)
    assert all("\n" not in r["headline"] + r["description"] for r in rows)


@pytest.mark.e2e
def test_default_model_instagram_rewrite_keeps_limit_and_hashtags(real_bot):
    result = real_bot.run_task("social_rewrite", POST, platform="instagram", n=2)
    assert_shown_or_said(result, 2)
    assert all(len(r["post"]) <= 2200 and CLOSING_HASHTAGS.search(r["post"]) for r in result.output)


@pytest.mark.e2e
def test_default_model_seo_meta_keeps_length_and_keyword(real_bot):
    result = real_bot.run_task("seo_meta", "Our returns page: return any item within 30 days for a full refund",
                               keyword="returns", n=2)
    assert_shown_or_said(result, 2)
    assert all(len(r["description"]) <= 158 and "returns" in r["description"].lower() for r in result.output)


def test_evaluate_reports_each_checks_pass_rate_and_the_variants_shown(task_runner):
    task_runner.engine.responses = ["FREE kettles for winners", "The Zephyre kettle, now on sale",
                                    "Kettles, exactly how you like them", "I'm your kettles assistant"]
    # Each brief's own words are a candidate too (the only variants while the default model writes: its
    # own lines are ideas, counted apart): a spammy brief gives a spammy line.
    briefs = [{"text": "Free kettles for winners"}, {"text": "Recycling kettles", "options": {"n": 1}}]
    report = task_runner.bot.router.tasks["subject_lines"].evaluate(task_runner.bot, briefs, n=2, ideas=True)
    assert report["inputs"] == 2 and report["variants_asked"] == 3 and report["variants_shown"] == 2
    assert report["briefs_short_of_variants"] == 1 and report["ideas_shown"] == 2
    rates = report["check_pass_rates"]
    assert rates["spelling"] < 1 and rates["role-play"] < 1 and rates["banned words"] == 1  # "Zephyre", "I'm"
    assert report["problems"] == {"spam trigger": 1} and report["shown_passing_every_check"] == 0.5
    # What a person would have read, per brief, with what each shown line still fails: what a judge reads.
    shown = [v for brief in report["variants"] for v in brief["shown"]]
    assert [b["text"] for b in report["variants"]] == ["Free kettles for winners", "Recycling kettles"]
    assert [(v["written_by"], v["fails"]) for v in shown] == [("brief", ["spam trigger"]), ("brief", [])]
    assert report["variants"][0]["ideas"] == ["Kettles, exactly how you like them"]


def test_cli_eval_task_on_the_tiny_model(tmp_path, tiny_model_dir, botkit_cli):
    data = tmp_path / "briefs.jsonl"
    data.write_text('{"text": "The Zephyr 3000 kettle"}\n{"text": "Spring sale", "options": {"channel": "display"}}\n')
    out = json.loads(botkit_cli("eval", "task", "ad_copy", str(data), "-o", "n=2", "--json", home=tmp_path,
                                env={"BOTKIT_MODEL": str(tiny_model_dir)}).stdout)
    assert out["task"] == "ad_copy" and out["inputs"] == 2 and out["variants_asked"] == 4
    assert out["variants_shown"] <= 4 and out["candidates_sampled"] > 0
    assert set(CHECKS) <= set(out["check_pass_rates"]) and "shown_passing_every_check" in out
    data.write_text('{"txt": "oops"}\n')
    proc = botkit_cli("eval", "task", "ad_copy", str(data), home=tmp_path, check=False)
    assert proc.returncode == 1 and "line(s) 1" in proc.stderr and "Traceback" not in proc.stderr


def test_lines_from_the_brief_are_marked_and_need_no_caution(task_runner):
    from botkit.tasks.brand_voice import SMALL_MODEL_CAUTION

    task_runner.engine.responses = ["I'm your kettles assistant"]  # role-play: never shown
    result = task_runner.bot.run_task("subject_lines", "Recycling kettles", n=1)
    assert [(r["subject"], r["written_by"]) for r in result.output] == [("Recycling kettles", "brief")]
    assert "(the brief's words)" in result.text and SMALL_MODEL_CAUTION[5:40] not in result.text
    # The default model's own line passes the checks, but a reader found nearly none of its lines usable:
    # it is not a variant, only an idea under its own label, with the caution; fewer variants are said.
    task_runner.engine.responses = ["Kettles, recycled with care"]
    result = task_runner.bot.run_task("subject_lines", "Recycling kettles", n=2, ideas=True)
    assert [r["written_by"] for r in result.output] == ["brief"] and result.output.ideas == [
        "Kettles, recycled with care"]
    assert "Only 1 of 2 variants" in result.text
    assert "Ideas from the small copy model" in result.text and SMALL_MODEL_CAUTION[5:40] in result.text
    # A stronger copy model's lines are variants like the brief's, with no caution.
    stronger_copy_model(task_runner)
    result = task_runner.bot.run_task("subject_lines", "Recycling kettles", n=2)
    assert sorted(r["written_by"] for r in result.output) == ["brief", "model"] and not result.output.ideas
    assert SMALL_MODEL_CAUTION[5:40] not in result.text


def test_seo_meta_from_the_brief_while_the_default_model_writes(task_runner):
    # A meta description must be 120-158 characters: lines made of a brief that long (the generic brand here
    # has no closing phrase or tagline to add).
    brief = ("Click and collect: order online and pick it up free at any Kettlebrook shop, usually ready "
             "within 4 hours and held for 14 days")
    task_runner.engine.responses = ["Order online at any Kettlebrook shop and pick it up free: click and collect "
                                    "orders are usually ready within 4 hours and held for 14 days."]
    result = task_runner.bot.run_task("seo_meta", brief, n=2, ideas=True)
    assert result.output and all(r["written_by"] == "brief" and 120 <= r["characters"] <= 158
                                 and r["description"].startswith(("Click and collect", "Order online"))
                                 for r in result.output)
    assert result.output.ideas and "Ideas from the small copy model" in result.text


def test_the_small_models_ideas_are_off_unless_asked_for(task_runner):
    # A reader found 3 of the small copy model's 78 ideas usable: by default it is not asked at all, the
    # note says how to list its lines, and the `copy_ideas` setting turns them on for every request.
    task_runner.engine.responses = ["Kettles, recycled with care"]
    result = task_runner.bot.run_task("subject_lines", "Recycling kettles", n=2)
    assert [r["written_by"] for r in result.output] == ["brief"] and not result.output.ideas
    assert task_runner.engine.calls == [] and "Ideas from" not in result.text and "ideas=true" in result.text
    task_runner.bot.settings.copy_ideas = True
    assert task_runner.bot.run_task("subject_lines", "Recycling kettles", n=2).output.ideas == [
        "Kettles, recycled with care"]


def test_an_ad_pairs_each_headline_with_a_description_that_does_not_repeat_it():
    from botkit.default_plugins.ad_copy import paired
    from botkit.tasks import Candidate

    heads = [Candidate("The Brew Bundle", 1.0, "brief"), Candidate("Brew Bundle", 0.9, "brief")]
    descs = [Candidate("The Brew Bundle: a grinder and a kettle for $219. Simple as that.", 1.0, "brief"),
             Candidate("A grinder and a kettle for $219. Simple as that.", 0.5, "brief")]
    # The best description says the headline again: the headline takes the next; the second headline has
    # only the repeating one left, and is not shown (an ad saying its headline twice is not sent as is).
    assert [(h.text, d.text) for h, d in paired(heads, descs)] == [("The Brew Bundle", descs[1].text)]
    shop = [Candidate("Our Portsmouth shop, open Monday to Saturday. Simple as that.", 1.0, "brief")]
    assert paired([Candidate("Open Monday to Saturday", 1.0, "brief")], shop) == []
    # Naming the headline's product among more is no repeat; but an ad must say its brief whole: its date,
    # and a description naming nothing of the brief sits only under the brief's own start.
    brief = "Our descaling workshop at the Burlington shop on Saturday, March 14 at 2 p.m."
    heads = [Candidate("March 14", 1.0, "brief"), Candidate("Our descaling workshop", 0.9, "brief")]
    descs = [Candidate("On Saturday, March 14 at 2 p.m. Simple as that.", 1.0, "brief")]
    assert [(h.text, d.text) for h, d in paired(heads, descs, brief)] == [("Our descaling workshop", descs[0].text)]
    students = "10% off for students with a valid student ID in every Kettlebrook shop"
    id_only = [Candidate("With a valid student ID in every Kettlebrook shop. Simple as that.", 1.0, "brief")]
    assert len(paired([Candidate("10% off for students", 1.0, "brief")], id_only, students)) == 1
    assert paired([Candidate("Kettlebrook shop", 1.0, "brief")], id_only, students) == []  # the 10% is gone
    circle = [Candidate("Join Kettlebrook Circle: 1 point for every $1, no fee. Simple as that.", 1.0, "brief")]
    assert len(paired([Candidate("Kettlebrook Circle", 1.0, "brief")], circle)) == 1


def test_a_brand_with_only_a_profile_gets_posts_of_the_briefs_words_signed_with_its_tagline(task_runner):
    from botkit.prompting.brand import BrandProfile

    # No archive, no closings, none of its words in the brief: the brief's own words are still shown (they
    # are the person's), one signed off with the brand's tagline, which may end on "for".
    task_runner.bot.brand = BrandProfile(name="Oakhurst Bakery", tagline="Bread worth getting up for.",
                                         words_to_use=["baked daily", "by hand"])
    brief = {"text": "Our new rye bread with caraway seeds", "options": {"platform": "x"}}
    report = task_runner.bot.router.tasks["social_rewrite"].evaluate(task_runner.bot, [brief], n=3)
    shown = [v["copy"] for v in report["variants"][0]["shown"]]
    assert shown == ["Our new rye bread with caraway seeds.",
                     "Our new rye bread with caraway seeds. Bread worth getting up for."]
    assert report["shown_passing_every_check"] == 1.0 and report["shown_using_brand_words"] == 0.0


def test_an_ad_never_says_a_headline_of_three_words_again():
    from botkit.default_plugins.ad_copy import repeats

    assert repeats("With a five-year warranty", "The Ashby toaster, $79, with a five-year warranty.")
    assert repeats("Hot cross buns are back", "From March 20 until April 5: hot cross buns are back.")
    assert not repeats("Hot cross buns are back", "From March 20 until April 5.")
