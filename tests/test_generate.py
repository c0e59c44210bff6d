"""Candidate generation: grounded answers batched through the same path as chat."""

import shutil

import pytest

from botkit.feedback.generate import Candidate, generate_pairs
from botkit.feedback.store import RankingStore
from botkit.feedback.worth_ranking import differ_in_substance
from botkit.prompting.brand import sample_brand_dir
from botkit.testing import FakeEngine


@pytest.fixture(autouse=True)
def sample_brand(monkeypatch):
    """These bots start before the sample's documents are ingested: name the sample brand, as a user would."""
    monkeypatch.setenv("BOTKIT_BRAND", str(sample_brand_dir() / "brand.yaml"))

PROMPTS = ["How much is the Zephyr 3000?", "How long does shipping to Canada take?", "Do you sell fridges?"]


@pytest.fixture
def tiny_bot(tiny_bot, tmp_path, sample_knowledge):
    """The tiny bot over two of the sample brand's documents."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("zephyr-3000.md", "shipping.md"):
        shutil.copy(sample_knowledge / name, docs / name)
    tiny_bot.knowledge.ingest(docs)
    return tiny_bot


def test_batched_answers_are_the_answers_chat_gives(tiny_bot, monkeypatch):
    direct = [tiny_bot.answer(p) for p in PROMPTS]
    calls, real = [], tiny_bot.engine.generate_batch
    monkeypatch.setattr(tiny_bot.engine, "generate_batch", lambda chats, o: calls.append(len(chats)) or real(chats, o))
    batched = tiny_bot.answer_batch(PROMPTS)
    answered = sum(r.grounding in ("generated", "quoted") for r in direct)
    assert answered >= 1 and calls == [answered]  # one model call for every answerable question at once
    assert [(r.text, r.grounding, [c.source for c in r.citations]) for r in batched] == \
           [(r.text, r.grounding, [c.source for c in r.citations]) for r in direct]
    assert batched[2].grounding == "dont-know"


def test_generated_candidates_keep_sources_and_decoding(tiny_bot, tiny_engine):
    store = RankingStore(tiny_bot.db)
    cands = [Candidate("tiny", {"strategy": "greedy"}, engine=tiny_engine),
             Candidate("tiny", {"strategy": "sample", "seed": 3}, engine=tiny_engine)]
    report = generate_pairs(store, tiny_bot.settings, [{"prompt": PROMPTS[0], "plugin": None, "options": {}}], cands,
                            embedder=tiny_bot.embedder)
    assert report.responses == 2
    # One model, two decodings: two systems on the leaderboard.
    assert report.versions == [f"{tiny_engine.name} (greedy)", f"{tiny_engine.name} (sample)"]
    # The random model's drafts fail the grounding check (its answers are quotes of the sources): no
    # pair of them is worth a person's time, and the report says why.
    assert report.pairs == 0 and report.skipped["failed checks"] + report.skipped["identical"] == 1
    assert not list(store.db.query("select id from pairs"))
    rows = list(store.db.query("select id from responses"))
    row = store.response(rows[0]["id"])
    assert row["sources"] and row["sources"][0]["source"].endswith("zephyr-3000.md")
    assert {store.response(r["id"])["decoding"]["strategy"] for r in rows} == {"greedy", "sample"}
    assert row["examples"] and "input" in row["examples"][0]


def test_only_checked_answers_that_differ_in_substance_are_queued(tiny_bot):
    store = RankingStore(tiny_bot.db)
    said = {"plain": "The Zephyr 3000 costs $129.",
            "punctuated": "The Zephyr 3000 costs $129!",  # the same answer but for one mark
            "fuller": "The Zephyr 3000 is Kettlebrook's flagship kettle and costs $129.",
            "wrong": "The Zephyr 3000 costs $99."}  # fails the grounding check: the source is quoted instead
    cands = [Candidate(name, {"strategy": "greedy"}, engine=FakeEngine([text])) for name, text in said.items()]
    report = generate_pairs(store, tiny_bot.settings, [{"prompt": PROMPTS[0], "plugin": None, "options": {}}], cands,
                            embedder=tiny_bot.embedder)
    queued = {frozenset(store.response(r[k])["model_version"] for k in ("a_id", "b_id"))
              for r in store.db.query("select a_id, b_id from pairs")}
    assert queued == {frozenset({"plain", "fuller"}), frozenset({"punctuated", "fuller"})}
    # The quote shown for "wrong" is word for word the "plain" answer: identical, the rest failed checks.
    assert report.pairs == 2 and report.skipped == {"identical": 1, "near-identical": 1, "failed checks": 2}
    assert report.as_dict()["skipped"]["failed checks"] == 2
    assert report.summary() == "4 skipped: 1 identical, 1 near-identical, 2 failed checks"


@pytest.mark.parametrize(("a", "b", "differ"), [
    ("The Zephyr 3000 costs $129.", "the zephyr 3000  costs $129", False),  # case, spacing, punctuation
    ("Every Zephyr 3000 has a seven-year warranty.", "Every Zephyr 3000 has a seven year warranty!", False),
    ("The kettle holds 1.7 liters.", "The kettle holds 1.5 liters.", True),  # one figure is a fact
    ("Shipping to Canada takes 5 days.", "Shipping to Canada takes about 5 days.", False),  # one word
    ("Shipping to Canada takes 5 days.", "We ship to Canada in 5 days by courier.", True),
])
def test_substance_is_more_than_punctuation_or_one_word(a, b, differ):
    assert differ_in_substance(a, b) is differ


def test_n_samples_of_a_candidate_are_asked_in_one_batch(tiny_bot, monkeypatch):
    store = RankingStore(tiny_bot.db)
    engine = FakeEngine(["The Zephyr 3000 costs $129.", "The Zephyr 3000 is $129, with a seven-year warranty.",
                         "The Zephyr 3000 costs $129 and comes in two colours."])
    batches, real = [], engine.generate_batch
    monkeypatch.setattr(engine, "generate_batch", lambda chats, o: batches.append(len(chats)) or real(chats, o))
    cands = [Candidate("fake", {"strategy": "sample", "seed": 1}, engine=engine, n=3)]
    report = generate_pairs(store, tiny_bot.settings, [{"prompt": PROMPTS[0], "plugin": None, "options": {}}], cands,
                            embedder=tiny_bot.embedder)
    # Three answers to one prompt from one model call (llama.cpp reads the prompt once for them), each
    # its own response with what the model wrote, even where all three show the same quote.
    assert batches == [3] and report.responses == 3
    assert len({store.response(i)["output"] for i in report.answers[0]}) == 3
