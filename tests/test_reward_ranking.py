"""Feedback that changes answers now: a promoted reward version ranks best-of-N only once it beat brand
similarity on its held-out pairs (brand similarity otherwise), the Rank queue offers the pair it is
least sure of first, and a winner annotators agree on becomes a few-shot example in the next prompt."""

from __future__ import annotations

import shutil
from pathlib import Path

from botkit.config import load_settings
from botkit.decoding import DecodingOptions
from botkit.dialogue import Bot
from botkit.feedback.agreed_examples import agreed_winners, promote_agreed
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.reward_ranking import uncertain_first
from botkit.feedback.store import RankingStore
from botkit.feedback.training.reward import RewardScorer
from botkit.tasks import best_of_n, copy_scorer
from botkit.testing import FakeEngine

CHAT = [{"role": "user", "content": "Write a line about our teapot."}]
POLITE = "We hope our teapot makes your afternoons calmer."
SHOUTING = "TEAPOT SALE!!! BUY IT NOW!!!"


def ranked(bot, texts):
    best = best_of_n(FakeEngine(texts), CHAT, samples=len(texts), keep=len(texts), limit=80,
                     scorer=copy_scorer(bot), decoding=DecodingOptions())
    return best.ranker, [c.text for c in best]


def test_best_of_n_ranks_by_the_reward_version_only_once_it_beat_brand_similarity(settings, reward_version,
                                                                                  embedder):
    registry = ModelRegistry.open(settings)
    bot = Bot(load_settings(), engine=FakeEngine(), embedder=embedder)
    assert ranked(bot, [SHOUTING, POLITE])[0] == "brand_similarity"  # nothing promoted yet

    # Brand examples that shout make brand similarity prefer the rejected copy: the reward version wins.
    promoted = registry.promote_reward(reward_version, embedder=embedder, examples=[SHOUTING, "HUGE SALE!!! NOW!!!"])
    comparison = promoted["vs_brand_similarity"]
    assert comparison["pairs"] == 12 and comparison["reward_accuracy"] > comparison["brand_similarity_accuracy"]
    assert promoted["ranks_best_of_n"] and load_settings().reward_model == reward_version
    assert registry.version(reward_version)["metrics"]["vs_brand_similarity"] == comparison  # recorded
    bot = Bot(load_settings(), engine=FakeEngine(), embedder=embedder)
    shouting_first_by_brand = [SHOUTING, "HURRY!!! TEAPOTS!!!", POLITE]
    ranker, order = ranked(bot, shouting_first_by_brand)
    scores = RewardScorer.load(reward_version, settings).score([CHAT] * 3, shouting_first_by_brand)
    assert ranker == "reward_version"
    assert order == [t for _, t in sorted(zip(scores, shouting_first_by_brand), reverse=True)]
    assert order[0] == POLITE

    # A version whose held-out pairs are gone (as for versions trained before they were kept) shows
    # nothing it beats brand similarity on, so brand similarity ranks again once it is promoted.
    (Path(registry.version(reward_version)["adapter_path"]) / "heldout.jsonl").unlink()
    promoted = registry.promote_reward(reward_version, embedder=embedder, examples=[SHOUTING])
    assert promoted["vs_brand_similarity"]["pairs"] == 0 and not promoted["ranks_best_of_n"]
    bot = Bot(load_settings(), engine=FakeEngine(), embedder=embedder)
    assert ranked(bot, shouting_first_by_brand)[0] == "brand_similarity"


def test_the_rank_queue_offers_the_pair_the_reward_version_is_least_sure_of(settings, reward_version, embedder):
    store = RankingStore.open(settings)
    store.add_annotator("ana")
    sure = store.add_pair(store.log_response("Describe the teapot.", POLITE, model="v1"),
                          store.log_response("Describe the teapot.", SHOUTING, model="v2"))
    unsure = store.add_pair(store.log_response("Describe the kettle.", "Our kettle is made with care.", model="v1"),
                            store.log_response("Describe the kettle.", "We hope you enjoy the kettle.", model="v2"))
    assert uncertain_first(store, "ana", load_settings()) is None  # no reward version ranks: the store's order
    ModelRegistry.open(settings).promote_reward(reward_version, embedder=embedder, examples=[SHOUTING])
    pair = uncertain_first(store, "ana", load_settings())
    assert pair["pair_id"] == unsure and pair["ranker"] == reward_version
    store.record_comparison(unsure, "ana", "a")
    assert uncertain_first(store, "ana", load_settings())["pair_id"] == sure


def test_an_agreed_winner_becomes_a_few_shot_example_in_the_next_prompt(settings, embedder, tmp_path,
                                                                       sample_knowledge):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(sample_knowledge / "warranty.md", docs)
    engine = FakeEngine(["The Zephyr 3000 is covered for seven years from the date of purchase."])
    bot = Bot(load_settings(), engine=engine, embedder=embedder)
    bot.knowledge.ingest(docs)
    question = "How long is the Toaster warranty?"
    winner = "Every Brookside toaster is covered by a three-year toaster warranty, from the day you buy it."
    store = RankingStore.open(settings)
    pair = store.add_pair(store.log_response(question, winner + " [1]", model="v1"),
                          store.log_response(question, "Toasters have warranties.", model="v2"))
    for name in ("ana", "ben"):
        store.add_annotator(name)
    store.record_comparison(pair, "ana", "a")
    assert agreed_winners(store) == []  # one annotator is not agreement
    store.record_comparison(pair, "ben", "b")
    assert agreed_winners(store) == []  # two who disagree are not either
    store.record_comparison(pair, "ben", "a")
    (added,) = promote_agreed(store)
    assert added["output"] == winner and promote_agreed(store) == []  # once, without the source marker

    bot.answer("How long is the toaster warranty?")
    shots = [m["content"] for m in engine.calls[-1] if m["role"] == "assistant"]
    assert winner in shots  # the same bot, the very next prompt
