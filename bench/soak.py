"""Soak test of `botkit serve`: 8 concurrent API clients for N minutes (chat, tasks, feedback) against a
server this script starts on a throwaway home; reports requests served, 429s, errors (must be 0),
p50/p95 latency, the server's peak RSS, and whether every feedback call that succeeded is in the store.

    python bench/soak.py [--minutes 5] [--clients 8] [--model default] [--engine auto] [--json]

Each client has its own key (scopes chat, tasks, feedback; the annotator of its feedback) and loops:
ask a sample-brand question, rate the answer (thumbs up or down, by response id), and every third
round run a plugin task. A 429 is counted and waited out (Retry-After), never an error; an error is
any other non-200 status or a failed connection. Latency counts from sending to the last byte. One
chat and one task before the clients start warm the server up (lazily built parts); they are not counted.
Exit status 1 when there were errors or a feedback call is missing from the store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from botkit.database import open_database
from botkit.prompting.brand import sample_brand_dir
from botkit.server.keys import KeyStore

sys.path.insert(0, str(Path(__file__).parent))
from serve_load import free_port, peak_rss_mb, percentile, questions, wait_until_up  # noqa: E402 - a sibling bench script


def start_server(home: Path, clients: int, model: str, engine: str) -> tuple[subprocess.Popen, str, dict]:
    """`botkit serve` over `home` with the sample brand ingested; returns it, its URL and {name: key}."""
    env = {**os.environ, "BOTKIT_HOME": str(home), "BOTKIT_MODEL": model, "BOTKIT_ENGINE": engine}
    env.pop("BOTKIT_CONFIG", None)
    botkit = [sys.executable, "-m", "botkit"]
    subprocess.run([*botkit, "ingest", str(sample_brand_dir() / "knowledge"), "--json"], env=env, check=True,
                   capture_output=True)

    # What `botkit keys create` does, without starting a process per key.
    store = KeyStore(open_database(home / "botkit.db"))
    keys = {f"soak-{i}": store.create(f"soak-{i}", "chat,tasks,feedback") for i in range(1, clients + 1)}
    keys["ops"] = store.create("ops", "admin")
    port = free_port()
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen([*botkit, "serve", "--port", str(port), "--log-level", "info"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, url, home)
    return proc, url, keys


class Tally:
    def __init__(self):
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.busy = 0
        self.errors: Counter = Counter()
        self.feedback: list[tuple[str, str, int]] = []  # (response id, annotator, rating) answered 200


async def call(http: httpx.AsyncClient, tally: Tally, kind: str, path: str, body: dict, deadline: float):
    """POST until it is not a 429 (or time is up); the 200 response's JSON, else None."""
    started = time.perf_counter()
    while True:
        try:
            response = await http.post(path, json=body)
        except httpx.HTTPError as exc:
            tally.errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        if response.status_code != 429:
            break
        tally.busy += 1
        wait = float(response.headers.get("Retry-After", "1"))
        if time.monotonic() + wait > deadline:
            return None
        await asyncio.sleep(wait)
    if response.status_code != 200:
        tally.errors[f"{kind}: {response.status_code} {response.text[:120]}"] += 1
        return None
    tally.latencies[kind].append(time.perf_counter() - started)
    return response.json()


async def client(url: str, name: str, key: str, deadline: float, tally: Tally, max_tokens: int, offset: int):
    asked = questions()
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600) as http:
        round_ = 0
        while time.monotonic() < deadline:
            question = asked[(offset + round_) % len(asked)]
            answer = await call(http, tally, "chat", "/v1/chat/completions", {
                "model": "botkit", "max_tokens": max_tokens, "messages": [{"role": "user", "content": question}]},
                deadline)
            if answer and time.monotonic() < deadline:
                rating = 1 if round_ % 2 else -1
                done = await call(http, tally, "feedback", "/v1/feedback", {
                    "response_id": answer["id"], "rating": rating, "reason": f"soak round {round_}"}, deadline)
                if done:
                    tally.feedback.append((answer["id"], name, rating))
            if round_ % 3 == 2 and time.monotonic() < deadline:
                await call(http, tally, "task", "/v1/tasks/subject_lines",
                           {"text": f"Spring sale on kettles, week {round_}", "options": {"n": 1}}, deadline)
            round_ += 1


def feedback_in_store(database: Path, sent: list[tuple[str, str, int]]) -> int:
    with sqlite3.connect(database) as db:
        stored = set(db.execute("SELECT response_id, annotator, value FROM ratings"))
    return sum(1 for row in sent if row in stored)


async def soak(url: str, keys: dict, minutes: float, clients: int, max_tokens: int) -> tuple[dict, dict]:
    tally = Tally()
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {keys['ops']}"}, timeout=600) as http:
        # Warm-up, not counted: the first answer and task build lazily made parts (indexes, vocabulary).
        await http.post("/v1/chat/completions", json={"model": "botkit", "max_tokens": max_tokens,
                                                       "messages": [{"role": "user", "content": questions()[0]}]})
        await http.post("/v1/tasks/subject_lines", json={"text": "Warm-up", "options": {"n": 1}})
    started = time.monotonic()
    deadline = started + minutes * 60
    names = [n for n in keys if n != "ops"][:clients]
    await asyncio.gather(*(client(url, n, keys[n], deadline, tally, max_tokens, i * 5) for i, n in enumerate(names)))
    elapsed = time.monotonic() - started
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {keys['ops']}"}) as http:
        health = (await http.get("/healthz")).json()
        metrics = (await http.get("/metrics")).text
    served = {kind: len(v) for kind, v in tally.latencies.items()}
    every = [s for v in tally.latencies.values() for s in v]
    server_counted = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                         if line.startswith("botkit_requests_total{"))
    return {
        "model": health["model"], "clients": len(names), "minutes": round(elapsed / 60, 2),
        "requests_served": sum(served.values()), "served_by_kind": served, "429s": tally.busy,
        "errors": sum(tally.errors.values()), "error_kinds": dict(tally.errors),
        "requests_per_second": round(sum(served.values()) / elapsed, 3),
        "p50_seconds": percentile(every, 0.5), "p95_seconds": percentile(every, 0.95),
        "p50_by_kind": {k: percentile(v, 0.5) for k, v in tally.latencies.items()},
        "p95_by_kind": {k: percentile(v, 0.95) for k, v in tally.latencies.items()},
        "server_requests_counted": int(server_counted),
    }, {"sent": tally.feedback}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--model", default="default", help="the server's model")
    parser.add_argument("--engine", default="auto", help="the server's engine")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="botkit-soak-") as tmp:
        home = Path(tmp)
        proc, url, keys = start_server(home, args.clients, args.model, args.engine)
        try:
            result, feedback = asyncio.run(soak(url, keys, args.minutes, args.clients, args.max_tokens))
            result["server_peak_rss_mb"] = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        log = (home / "serve.log").read_text()
        result["feedback_calls"] = len(feedback["sent"])
        result["feedback_in_store"] = feedback_in_store(home / "botkit.db", feedback["sent"])
        result["server_tracebacks"] = log.count("Traceback")
        result["keys_in_log"] = sum(log.count(k) for k in keys.values())
    result["ok"] = (result["errors"] == 0 and result["feedback_in_store"] == result["feedback_calls"]
                    and not result["server_tracebacks"] and not result["keys_in_log"])
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['model']}, {result['clients']} clients for {result['minutes']} min: "
              f"{result['requests_served']} requests served {result['served_by_kind']} "
              f"({result['requests_per_second']}/s), {result['429s']} 429s, {result['errors']} errors "
              f"{result['error_kinds'] or ''}")
        print(f"  latency p50 {result['p50_seconds']} s, p95 {result['p95_seconds']} s (by kind: p50 "
              f"{result['p50_by_kind']}, p95 {result['p95_by_kind']}); server peak RSS "
              f"{result['server_peak_rss_mb']} MB")
        print(f"  feedback in the store: {result['feedback_in_store']} of {result['feedback_calls']}; "
              f"tracebacks in the server log: {result['server_tracebacks']}; keys in the log: {result['keys_in_log']}")
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
