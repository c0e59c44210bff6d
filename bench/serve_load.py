"""Load on `botkit serve`: requests/s and p50/p95 latency of a short chat completion (max_tokens 16)
with N concurrent clients (asyncio + httpx), on the default model unless told otherwise.

    python bench/serve_load.py [--clients 8] [--requests 48] [--model default] [--json]
    python bench/serve_load.py --url http://127.0.0.1:8000 --key bk_...   # an already running server

Without --url it makes a throwaway BOTKIT_HOME, ingests the sample brand, creates a key and starts
`botkit serve` on a free port. Latency counts from sending to the last byte of the answer; the
questions are the sample brand's evaluation questions, in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from botkit.prompting.brand import sample_brand_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, home: Path) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "BOTKIT_HOME": str(home), "BOTKIT_MODEL": model}
    env.pop("BOTKIT_CONFIG", None)
    botkit = [sys.executable, "-m", "botkit"]
    subprocess.run([*botkit, "ingest", str(sample_brand_dir() / "knowledge"), "--json"], env=env, check=True,
                   capture_output=True)
    created = subprocess.run([*botkit, "keys", "create", "--name", "bench", "--scope", "chat", "--json"], env=env,
                             check=True, capture_output=True, text=True)
    key = json.loads(created.stdout)["key"]
    port = free_port()
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen([*botkit, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"botkit serve exited:\n{(home / 'serve.log').read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url, key
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("botkit serve did not come up in 180 s")


async def run_load(url: str, key: str, clients: int, requests: int, max_tokens: int) -> dict:
    lines = (sample_brand_dir() / "eval" / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(questions[i % len(questions)])
    latencies, errors, tokens = [], {}, 0

    async def client(http: httpx.AsyncClient):
        nonlocal tokens
        while not queue.empty():
            question = queue.get_nowait()
            started = time.perf_counter()
            response = await http.post("/v1/chat/completions", json={
                "model": "botkit", "max_tokens": max_tokens, "messages": [{"role": "user", "content": question}]})
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
                tokens += response.json()["usage"]["completion_tokens"]
            else:
                errors[response.status_code] = errors.get(response.status_code, 0) + 1

    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600) as http:
        # Warm-up: the first answer loads lazily built parts (few-shot index, vocabulary).
        await http.post("/v1/chat/completions", json={"model": "botkit", "max_tokens": max_tokens,
                                                       "messages": [{"role": "user", "content": questions[0]}]})
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
        model = (await http.get("/healthz")).json()["model"]
    latencies.sort()
    return {
        "model": model, "clients": clients, "requests": requests, "max_tokens": max_tokens, "errors": errors,
        "seconds": round(elapsed, 2), "requests_per_second": round(len(latencies) / elapsed, 3),
        "p50_seconds": round(statistics.median(latencies), 2) if latencies else None,
        "p95_seconds": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2) if latencies else None,
        "completion_tokens_per_second": round(tokens / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--model", default="default", help="model for the server this script starts")
    parser.add_argument("--url", help="an already running botkit serve")
    parser.add_argument("--key", help="its API key (scope chat)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    proc = None
    with tempfile.TemporaryDirectory(prefix="botkit-serve-bench-") as tmp:
        if args.url:
            url, key = args.url, args.key or ""
        else:
            proc, url, key = start_server(args.model, Path(tmp))
        try:
            result = asyncio.run(run_load(url, key, args.clients, args.requests, args.max_tokens))
        finally:
            if proc:
                proc.terminate()
                proc.wait(timeout=30)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['model']}: {result['clients']} clients, {result['requests']} requests (max_tokens "
              f"{result['max_tokens']}): {result['requests_per_second']} requests/s, p50 {result['p50_seconds']} s, "
              f"p95 {result['p95_seconds']} s, {result['errors']} errors")


if __name__ == "__main__":
    main()
