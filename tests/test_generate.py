"""Candidate generation: grounded answers batched through the same path as chat."""

import shutil

from botkit.feedback.generate import Candidate, generate_pairs
from botkit.feedback.store import RankingStore
from tests.conftest import SAMPLE_KNOWLEDGE

PROMPTS = ["How much is the Zephyr 3000?", "How long does shipping to Canada take?", "Do you sell fridges?"]


def _ingest_two_docs(bot, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("zephyr-3000.md", "shipping.md"):
        shutil.copy(SAMPLE_KNOWLEDGE / name, docs / name)
    bot.knowledge.ingest(docs)


def test_batched_answers_are_the_answers_chat_gives(tiny_bot, tmp_path, monkeypatch):
    _ingest_two_docs(tiny_bot, tmp_path)
    direct = [tiny_bot.answer(p) for p in PROMPTS]
    calls, real = [], tiny_bot.engine.generate_batch
    monkeypatch.setattr(tiny_bot.engine, "generate_batch", lambda chats, o: calls.append(len(chats)) or real(chats, o))
    batched = tiny_bot.answer_batch(PROMPTS)
    answered = sum(r.grounding in ("generated", "quoted") for r in direct)
    assert answered >= 1 and calls == [answered]  # one model call for every answerable question at once
    assert [(r.text, r.grounding, [c.source for c in r.citations]) for r in batched] == \
           [(r.text, r.grounding, [c.source for c in r.citations]) for r in direct]
    assert batched[2].grounding == "dont-know"


def test_generated_candidates_keep_sources_and_decoding(tiny_bot, tiny_engine, tmp_path):
    _ingest_two_docs(tiny_bot, tmp_path)
    store = RankingStore(tiny_bot.db)
    cands = [Candidate("tiny", {"strategy": "greedy"}, engine=tiny_engine),
             Candidate("tiny", {"strategy": "sample", "seed": 3}, engine=tiny_engine)]
    report = generate_pairs(store, tiny_bot.settings, [{"prompt": PROMPTS[0], "plugin": None, "options": {}}], cands,
                            embedder=tiny_bot.embedder)
    assert report.responses == 2 and report.pairs + report.identical == 1
    assert report.versions == [f"{tiny_engine.name} (greedy)", f"{tiny_engine.name} (sample)"]  # one model, two decodings: two systems
    if report.draft_pairs:  # the answers were the same quote: the pair holds the two drafts behind them
        (pair,) = store.db.query("select a_id, b_id from pairs")
        assert store.response(pair["a_id"])["text"] != store.response(pair["b_id"])["text"]
    rows = list(store.db.query("select id from responses"))
    row = store.response(rows[0]["id"])
    assert row["sources"] and row["sources"][0]["source"].endswith("zephyr-3000.md")
    assert {store.response(r["id"])["decoding"]["strategy"] for r in rows} == {"greedy", "sample"}
    assert row["examples"] and "input" in row["examples"][0]
