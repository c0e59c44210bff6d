"""Eight processes judging the same pairs at once: nothing lost, nothing duplicated."""

import multiprocessing

from botkit.database import open_database
from botkit.feedback.store import RankingStore

ANNOTATORS = [f"rater{i}" for i in range(4)]
PAIRS = 25


def _judge(args):
    path, worker = args
    store = RankingStore(open_database(path))
    pair_ids = [r["id"] for r in store.db.query("select id from pairs where id <= ? order by id", [PAIRS])]
    written = []
    # Two workers share each annotator, so every (pair, annotator) key is written by two processes.
    annotator = ANNOTATORS[worker % len(ANNOTATORS)]
    for round_ in range(2):
        for pair_id in pair_ids:
            verdict = "ab"[(worker + round_) % 2]
            store.record_comparison(pair_id, annotator, verdict, reason=f"worker {worker}")
            written.append((pair_id, annotator))
        # and some fresh responses and pairs, logged concurrently too
        a = store.log_response(f"question from worker {worker}", f"answer {round_} a", model="v1")
        b = store.log_response(f"question from worker {worker}", f"answer {round_} b", model="v2")
        store.add_pair(a, b)
    return written


def test_eight_writers_lose_nothing_and_duplicate_nothing(tmp_path):
    path = tmp_path / "b.db"
    store = RankingStore(open_database(path))
    for name in ANNOTATORS:
        store.add_annotator(name)
    for n in range(PAIRS):
        a = store.log_response(f"question {n}", "good answer", model="v1")
        b = store.log_response(f"question {n}", "bad answer", model="v2")
        store.add_pair(a, b)
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        written = [key for keys in pool.map(_judge, [(path, w) for w in range(8)]) for key in keys]
    rows = list(store.db.query("select pair_id, annotator, reason from comparisons"))
    keys = [(r["pair_id"], r["annotator"]) for r in rows]
    assert len(keys) == len(set(keys))  # no duplicate (pair, annotator)
    assert set(keys) == set(written) and len(keys) == PAIRS * len(ANNOTATORS)  # none lost
    # every row holds the verdict of one of the two workers that wrote it (last writer wins)
    assert all(r["reason"] in {f"worker {w}" for w in range(8)} for r in rows)
    assert store.db["pairs"].count == PAIRS + 16 and store.db["prompts"].count == PAIRS + 8
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
