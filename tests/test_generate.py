"""Candidate generation: grounded answers batched through the same path as chat."""

import shutil

import pytest

from botkit.feedback.generate import Candidate, generate_pairs
from botkit.feedback.store import RankingStore
from botkit.prompting.brand import sample_brand_dir


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
    # One pair to rank, never two identical texts: when both shown answers are the same quote, the
    # pair holds the two (different) drafts behind them instead.
    (pair,) = store.db.query("select a_id, b_id from pairs")
    a, b = store.response(pair["a_id"]), store.response(pair["b_id"])
    assert report.pairs == 1 and report.identical == 0 and a["text"] != b["text"]
    rows = list(store.db.query("select id from responses"))
    row = store.response(rows[0]["id"])
    assert row["sources"] and row["sources"][0]["source"].endswith("zephyr-3000.md")
    assert {store.response(r["id"])["decoding"]["strategy"] for r in rows} == {"greedy", "sample"}
    assert row["examples"] and "input" in row["examples"][0]
