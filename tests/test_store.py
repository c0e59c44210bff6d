import json
import random
import sqlite3
import subprocess
import sys

import pytest

from botkit.database import MIGRATIONS, open_database
from botkit.errors import BotkitError
from botkit.feedback.store import RankingStore

PROMPT = "How much is the Zephyr 3000?"


@pytest.fixture
def store(tmp_path):
    s = RankingStore(open_database(tmp_path / "b.db"))
    for name in ("maya", "theo", "priya"):
        s.add_annotator(name)
    return s


def make_pair(store, n=0, gold=None, prompt=PROMPT):
    a = store.log_response(prompt, f"It costs $129. ({n})", model="v1",
                           sources=[{"source": "zephyr-3000.md", "text": "The Zephyr 3000 costs $129.", "score": 0.8}])
    b = store.log_response(prompt, f"It costs $149! ({n})", model="v2", decoding={"strategy": "sample"})
    return store.add_pair(a, b, gold=gold), a, b


def test_schema_has_the_constraints_that_stop_duplicates(store):
    db = store.db
    assert {"annotators", "prompts", "responses", "pairs", "comparisons", "ratings"} <= set(db.table_names())
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    sql = {t: db[t].schema for t in ("pairs", "comparisons", "ratings")}
    assert "UNIQUE (a_id, b_id)" in sql["pairs"] and "UNIQUE (pair_id, annotator)" in sql["comparisons"]
    assert "UNIQUE (response_id, annotator)" in sql["ratings"]


def test_responses_prompts_and_pairs_are_stored_once(store):
    pair_id, a, b = make_pair(store)
    assert store.add_pair(b, a) == pair_id  # either order, same pair
    assert make_pair(store)[0] == pair_id  # logging the same answers again changes nothing
    assert store.db["prompts"].count == 1 and store.db["responses"].count == 2 and store.db["pairs"].count == 1
    row = store.response(b)
    assert row["prompt"] == PROMPT and row["model_version"] == "v2" and row["decoding"] == {"strategy": "sample"}
    assert row["sources"][0]["source"] == "zephyr-3000.md"
    assert a.startswith("r_") and len(a) == 18


def test_gold_follows_the_answer_when_arguments_are_swapped(store):
    a = store.log_response(PROMPT, "right", model="v1")
    b = store.log_response(PROMPT, "wrong", model="v1")
    first, second = sorted([a, b])
    pair_id = store.add_pair(second, first, gold="a")  # the first argument is the right one
    assert store.pair(pair_id)["gold"] == "b" and store.pair(pair_id)["b_id"] == second


def test_a_pair_with_identical_texts_is_refused(store):
    a = store.log_response(PROMPT, "Same answer.", model="v1")
    b = store.log_response(PROMPT, "Same answer. ", model="v2")
    with pytest.raises(BotkitError, match="identical"):
        store.add_pair(a, b)
    c = store.log_response("Another question?", "Other answer.", model="v2")
    with pytest.raises(BotkitError, match="different prompts"):
        store.add_pair(a, c)
    assert store.db["pairs"].count == 0


def test_comparisons_upsert_per_annotator_and_keep_the_first_time(store):
    pair_id, *_ = make_pair(store)
    store.record_comparison(pair_id, "maya", "a", reason="right price", seconds=4.5, left="b")
    created = store.comparisons("maya")[0]["created_at"]
    store.record_comparison(pair_id, "maya", "tie", reason="changed my mind")
    store.record_comparison(pair_id, "theo", "b")
    rows = store.comparisons()
    assert [(r["annotator"], r["verdict"]) for r in rows] == [("maya", "tie"), ("theo", "b")]
    assert rows[0]["reason"] == "changed my mind" and rows[0]["created_at"] == created
    assert rows[0]["a_model"] == "v1" and rows[0]["b_model"] == "v2"


def test_bad_judgements_are_clear_errors_and_store_nothing(store):
    pair_id, *_ = make_pair(store)
    with pytest.raises(BotkitError, match="unknown annotator 'zoe'"):
        store.record_comparison(pair_id, "zoe", "a")
    with pytest.raises(BotkitError, match="verdict must be one of"):
        store.record_comparison(pair_id, "maya", "left")
    with pytest.raises(BotkitError, match="unknown pair 99"):
        store.record_comparison(99, "maya", "a")
    with pytest.raises(BotkitError, match="unknown annotator"):
        store.next_pair("zoe")
    with pytest.raises(BotkitError, match="non-empty"):
        store.add_annotator("  ")
    with pytest.raises(BotkitError, match="unknown response"):
        store.record_rating("r_0000000000000000", "maya", 1)
    assert store.db["comparisons"].count == 0


def test_a_second_thumb_replaces_the_first(store):
    _, a, _ = make_pair(store)
    store.record_rating(a, "maya", 1, "clear")
    store.record_rating(a, "maya", -1, "wrong price")
    rows = list(store.db.query("select value, reason from ratings"))
    assert rows == [{"value": -1, "reason": "wrong price"}]
    with pytest.raises(BotkitError, match="thumb"):
        store.record_rating(a, "maya", 5)


def test_next_pair_is_blind_never_repeats_and_randomises_sides(store):
    pairs = [make_pair(store, n)[0] for n in range(5)]
    rng = random.Random(1)
    seen, lefts = [], set()
    while (item := store.next_pair("maya", rng=rng)) is not None:
        assert set(item) == {"pair_id", "prompt", "sources", "plugin", "a", "b", "left", "is_gold"}
        assert "v1" not in json.dumps(item) and "v2" not in json.dumps(item)  # no model versions
        assert item["sources"][0]["source"] == "zephyr-3000.md"
        assert item["pair_id"] not in seen
        seen.append(item["pair_id"])
        lefts.add(item["left"])
        store.record_comparison(item["pair_id"], "maya", "a", left=item["left"])
    assert sorted(seen) == sorted(pairs) and lefts == {"a", "b"}
    assert store.progress("maya") == {"done": 5, "remaining": 0}
    assert store.progress("theo") == {"done": 0, "remaining": 5}


def test_next_pair_completes_pairs_others_started_so_agreement_can_be_measured(store):
    pairs = [make_pair(store, n)[0] for n in range(6)]
    store.record_comparison(pairs[4], "maya", "a")
    for seed in range(10):
        assert store.next_pair("theo", rng=random.Random(seed))["pair_id"] == pairs[4]
    store.record_comparison(pairs[4], "theo", "a")
    # With per_pair=2 reached, priya is sent to a fresh pair first.
    assert store.next_pair("priya", rng=random.Random(0))["pair_id"] != pairs[4]


def test_skipped_pairs_come_back_only_when_nothing_else_is_left(store):
    pairs = [make_pair(store, n)[0] for n in range(3)]
    store.record_comparison(pairs[0], "maya", "a")  # theo's queue would put this pair first
    skipped = {pairs[0], pairs[1]}
    assert all(store.next_pair("theo", exclude=skipped, rng=random.Random(s))["pair_id"] == pairs[2] for s in range(5))
    store.record_comparison(pairs[2], "theo", "b")
    assert store.next_pair("theo", exclude=skipped)["pair_id"] in skipped


def test_ratings_read_back_per_annotator(store):
    _, a, b = make_pair(store, 0)
    store.record_rating(a, "maya", 1, "clear")
    store.record_rating(b, "theo", -1)
    assert store.ratings("maya") == {a: {"value": 1, "reason": "clear"}}


def test_gold_pairs_are_mixed_in(store):
    for n in range(5):
        make_pair(store, n)
    gold_id, *_ = make_pair(store, 99, gold="a")
    picks = [store.next_pair("maya", rng=random.Random(seed)) for seed in range(200)]
    gold = [p for p in picks if p["is_gold"]]
    assert 5 <= len(gold) <= 45 and all(p["pair_id"] == gold_id for p in gold)


def test_a_database_from_a_newer_schema_is_refused_and_kept(tmp_path):
    path = tmp_path / "b.db"
    store = RankingStore(open_database(path))
    store.add_annotator("maya")
    store.db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    store.db.close()
    with pytest.raises(BotkitError, match="newer botkit"):
        RankingStore(open_database(path))
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    db.commit()
    assert RankingStore(open_database(path)).annotators() == ["maya"]


CRASH = """
import os, signal, sys
from pathlib import Path
from botkit.database import open_database
from botkit.feedback.store import RankingStore
store = RankingStore(open_database(Path(sys.argv[1])))
with store.write():
    a = store.log_response("Half-written question?", "first", model="v1")
    b = store.log_response("Half-written question?", "second", model="v2")
    store.record_comparison(store.add_pair(a, b), "maya", "a")
    os.kill(os.getpid(), signal.SIGKILL)  # the process dies inside the transaction
"""


def test_a_process_killed_mid_write_leaves_the_database_consistent(tmp_path):
    path = tmp_path / "b.db"
    store = RankingStore(open_database(path))
    store.add_annotator("maya")
    before, *_ = make_pair(store)
    done = subprocess.run([sys.executable, "-c", CRASH, str(path)], capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    store = RankingStore(open_database(path))
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [r["text"] for r in store.db.query("select text from prompts")] == [PROMPT]
    assert store.db["responses"].count == 2 and store.db["comparisons"].count == 0
    store.record_comparison(before, "maya", "a")  # and it is writable again
    assert store.db["comparisons"].count == 1


def test_a_failed_write_inside_a_transaction_rolls_everything_back(store):
    with pytest.raises(BotkitError), store.write():
        a = store.log_response("Q?", "one", model="v1")
        b = store.log_response("Q?", "two", model="v1")
        store.record_comparison(store.add_pair(a, b), "nobody", "a")
    assert store.db["responses"].count == 0 and store.db["pairs"].count == 0
