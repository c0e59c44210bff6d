"""Sustained comparisons per second with 8 processes writing to one ranking store at once, and the
count of lost or duplicated rows (must be 0).

    python bench/store_concurrency.py [--writers 8] [--seconds 20] [--pairs 200] [--json]

Each writer records (or changes) verdicts through RankingStore.record_comparison for random
(pair, annotator) keys shared with the other writers, for the given time, and reports every key it
wrote. Lost = keys some writer wrote that have no row; duplicated = rows beyond one per key.
"""

import argparse
import json
import multiprocessing
import random
import tempfile
import time
from pathlib import Path

from botkit.database import open_database
from botkit.feedback.store import RankingStore

ANNOTATORS = [f"rater{i}" for i in range(6)]


def writer(args):
    path, seed, seconds, start = args
    store = RankingStore(open_database(Path(path)))
    pair_ids = [r["id"] for r in store.db.query("select id from pairs")]
    rng = random.Random(seed)
    while time.time() < start:  # every writer starts together, after the imports
        time.sleep(0.001)
    written, n, end = set(), 0, start + seconds
    while time.time() < end:
        key = (rng.choice(pair_ids), rng.choice(ANNOTATORS))
        store.record_comparison(*key, rng.choice(("a", "b", "tie", "both-bad")), reason=f"writer {seed}",
                                seconds=rng.random() * 10, left=rng.choice("ab"))
        written.add(key)
        n += 1
    return n, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "botkit.db"
        store = RankingStore(open_database(path))
        with store.write():
            for name in ANNOTATORS:
                store.add_annotator(name)
            for n in range(opts.pairs):
                a = store.log_response(f"question {n}", "first answer", model="v1")
                b = store.log_response(f"question {n}", "second answer", model="v2")
                store.add_pair(a, b)
        start = time.time() + 3
        with multiprocessing.get_context("spawn").Pool(opts.writers) as pool:
            results = pool.map(writer, [(str(path), seed, opts.seconds, start) for seed in range(opts.writers)])
        writes = sum(n for n, _ in results)
        keys = set().union(*(w for _, w in results))
        rows = [(r["pair_id"], r["annotator"]) for r in store.db.query("select pair_id, annotator from comparisons")]
        report = {
            "writers": opts.writers, "seconds": opts.seconds, "comparisons_written": writes,
            "comparisons_per_second": round(writes / opts.seconds, 1),
            "distinct_keys_written": len(keys), "rows": len(rows),
            "lost": len(keys - set(rows)), "duplicated": len(rows) - len(set(rows)),
            "unexpected": len(set(rows) - keys),
            "integrity": store.db.execute("PRAGMA integrity_check").fetchone()[0],
        }
    if opts.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['writers']} writers x {report['seconds']:g} s: {report['comparisons_written']} comparisons, "
              f"{report['comparisons_per_second']} /s sustained; {report['distinct_keys_written']} distinct "
              f"(pair, annotator) keys, {report['rows']} rows; lost {report['lost']}, duplicated "
              f"{report['duplicated']}; integrity {report['integrity']}")


if __name__ == "__main__":
    main()
