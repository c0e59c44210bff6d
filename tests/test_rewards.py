"""Verifiable rewards: each scores an answer a user would be shown above one they would not, with the real
grounding check over a small knowledge base and the real copy checks."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from botkit.errors import BotkitError
from botkit.feedback.training.rewards import (
    PARTIAL,
    copy_checks_reward,
    grounded_prompts,
    grounding_reward,
    key_content,
    reward_functions,
    says_key,
)
from botkit.prompting.brand import load_brand

WARRANTY = {"question": "How long is the warranty on the Zephyr 3000 kettle?",
            "expected": ["seven-year", "seven years"], "source": "warranty.md"}


@pytest.fixture
def warranty_row(bot):
    rows = grounded_prompts(bot, [WARRANTY, {"question": "Do you sell fridges?"}])
    assert len(rows) == 1, "the question the documents cannot answer gives no RL prompt"
    return rows[0]


def test_the_rl_prompt_is_the_chat_the_engine_receives(bot, warranty_row):
    chat = warranty_row["prompt"]
    assert chat[0]["role"] == "system" and chat[-1]["role"] == "user"
    assert "[1]" in chat[-1]["content"] and WARRANTY["question"] in chat[-1]["content"]
    sources = json.loads(warranty_row["sources"])["sources"]
    assert all(s["sentence"] in chat[-1]["content"] for s in sources)  # the sources checked are the ones shown
    # What the bot itself sends the engine for this question.
    assert bot.grounded_chat(WARRANTY["question"]).messages == chat


def test_grounding_rewards_a_checked_answer_over_a_failing_one(bot, warranty_row):
    reward = grounding_reward(bot.embedder)
    sources = json.loads(warranty_row["sources"])["sources"]
    right = next(s["n"] for s in sources if "seven" in s["chunk"]["text"])
    phrased = "Your Zephyr 3000 is covered for seven years"  # not a source sentence nearly word for word
    answers = [f"{phrased} [{right}].",  # passes the check, cites the source with the fact
               f"{phrased}.",  # passes, cites nothing
               "The Zephyr 3000 comes with a 2.2 hour warranty [1].",  # an invented figure: quoted instead
               f"{phrased} [{right}]. " + "It is a very good kettle indeed. " * 12]
    scores = reward([warranty_row["prompt"]] * 4, [[{"role": "assistant", "content": a}] for a in answers],
                    sources=[warranty_row["sources"]] * 4)
    assert scores[0] > scores[1] > scores[2]
    assert scores[3] < scores[0]  # the same fact in a long draft is worth less
    assert scores[2] < 1 <= scores[1]  # a draft that fails earns less than any that passes


def test_a_copy_of_a_source_sentence_earns_no_more_than_a_quote(bot, warranty_row):
    # The check passes a source sentence restated word for word; `botkit eval grounding` counts it as copied.
    reward = grounding_reward(bot.embedder)
    answers = ["Your Zephyr 3000 is covered for seven years [1].",
               "The Zephyr 3000 electric kettle is covered for seven years from the date of purchase [1].",
               "The Zephyr 3000 kettle is covered for seven years [1]."]  # shortened, still the source's runs
    phrased, copy, shortened = reward([warranty_row["prompt"]] * 3, answers, sources=[warranty_row["sources"]] * 3)
    assert phrased == 2.0
    assert copy <= PARTIAL / 2 and shortened <= PARTIAL / 2


def test_only_the_expected_fact_pays(bot, warranty_row):
    # The same answer, passing the check and citing its source, for a row expecting a fact it leaves out.
    reward = grounding_reward(bot.embedder)
    answer = "Your Zephyr 3000 is covered for seven years [1]."
    other = json.loads(warranty_row["sources"])
    other["expected"] = ["date of purchase"]
    with_fact, without = reward([warranty_row["prompt"]] * 2, [answer] * 2,
                                sources=[warranty_row["sources"], json.dumps(other)])
    assert with_fact == 2.0 and without <= PARTIAL


def test_a_question_without_an_expected_fact_is_checked_for_what_the_quote_says(bot):
    # The extra training questions carry no `expected`: the sentence the quote would show gives the fact.
    row = grounded_prompts(bot, [{"question": WARRANTY["question"]}])[0]
    reward = grounding_reward(bot.embedder)
    answer = "Your Zephyr 3000 is covered for seven years [1]."
    assert reward([row["prompt"]], [answer], sources=[row["sources"]]) == [2.0]
    # The product's figure is in the question, so the fact is the sentence's own words, half of them said.
    warranty = key_content("The Zephyr 3000 electric kettle is covered for seven years from the date of purchase.",
                           WARRANTY["question"])
    assert says_key("It is covered for seven years.", warranty)
    assert not says_key("The Zephyr 3000 kettle comes with a warranty.", warranty)
    # A sentence with figures the question lacks: one of them said is the fact.
    canada = key_content("Shipping to Canada costs a flat $24.95 and takes 7 to 12 business days.",
                         "How much is standard shipping in Canada?")
    assert says_key("It is $24.95 to Canada.", canada) and not says_key("We do ship to Canada.", canada)


def test_a_failing_draft_earns_more_the_more_of_the_fact_it_says(bot, warranty_row):
    # What gives GRPO something to learn from when every sample of a question fails the check.
    reward = grounding_reward(bot.embedder)
    answers = ["Every Zephyr 3000 kettle comes with a 2.2 hour warranty from the date of purchase [1].",
               "The Zephyr 3000 has a 2.2 hour warranty [1].",
               "I'm sorry for your loss. It's been a long day.",
               "The source: [https://www.kettlebroker.com/news](https://www.kettlebroker.com/news)"]
    scores = reward([warranty_row["prompt"]] * 4, answers, sources=[warranty_row["sources"]] * 4)
    assert scores[0] > scores[1] > max(scores[2:]) and scores[2] == 0
    assert scores[0] <= 0.5


def test_copy_checks_reward_the_share_of_checks_passed(embedder):
    # The sample brand's profile, no knowledge base (as in test_copy_checks.py).
    reward = copy_checks_reward(SimpleNamespace(brand=load_brand(), embedder=embedder))
    brief = "Our spring sale: 20% off every toaster until April 30"
    lines = ["Toast for years: 20% off every toaster until April 30.",
             "Here's what I need you to do! Send me your cheap Zephyre toaster, 50% off, and"]
    good, bad = reward([brief, brief], lines)
    assert good == 1.0 and bad < 0.5
    assert reward([[{"role": "user", "content": brief}]], [lines[0]]) == [1.0]  # the brief from the chat


def test_a_misspelt_reward_or_version_fails_before_anything_loads(settings):
    with pytest.raises(BotkitError, match="unknown reward 'grounded'"):
        reward_functions(["grounded"], settings)
    with pytest.raises(BotkitError, match="no model version named 'nope'"):
        reward_functions(["version:nope"], settings)
