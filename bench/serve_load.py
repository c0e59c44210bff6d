"""Load on `botkit serve`: requests/s, p50/p95 latency, errors and 429s of short chat completions
(max_tokens 16) with 8 and 32 concurrent clients, the time to the first streamed token of an answer,
and the server's peak RSS; on the default model unless told otherwise.

    python bench/serve_load.py [--clients 8 32] [--requests 48] [--start-at 0] [--engine auto] [--idle SECONDS] [--json]
    python bench/serve_load.py --url http://127.0.0.1:8000 --key bk_... [--pid PID]   # a running server

Without --url it makes a throwaway BOTKIT_HOME, ingests the sample brand, creates a key and starts
`botkit serve` on a free port. Latency counts from sending to the last byte of the answer; a client
told 429 waits Retry-After seconds and asks again (each 429 is counted). The questions are the
sample brand's evaluation questions, in turn (`--start-at` says where the load starts: repeats of the
streamed answers' questions or not). Peak RSS is the server's high-water mark (VmHWM). The
server's CPU seconds (user + system, from /proc) up to each streamed answer's first content and per
request under load are comparable across runs on a busy machine, where wall times are not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
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


def start_server(model: str, engine: str, home: Path) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "BOTKIT_HOME": str(home), "BOTKIT_MODEL": model, "BOTKIT_ENGINE": engine}
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
    wait_until_up(proc, url, home)
    return proc, url, key


def wait_until_up(proc: subprocess.Popen, url: str, home: Path, seconds: float = 300) -> None:
    """Wait for `botkit serve` (logging to home/serve.log) to answer /healthz; exit with its log if it dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"botkit serve exited:\n{(home / 'serve.log').read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"botkit serve did not come up in {seconds:.0f} s")


def questions() -> list[str]:
    lines = (sample_brand_dir() / "eval" / "questions.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def percentile(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2) if ordered else None


async def run_load(http: httpx.AsyncClient, clients: int, requests: int, max_tokens: int,
                   pid: int | None = None, start_at: int = 0) -> dict:
    asked = questions()
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(asked[(start_at + i) % len(asked)])
    latencies, errors, busy, tokens = [], {}, 0, 0
    full_length, shorter = [], []  # latencies of answers whose draft ran to max_tokens, and of the rest

    async def client():
        nonlocal tokens, busy
        while not queue.empty():
            question = queue.get_nowait()
            body = {"model": "botkit", "max_tokens": max_tokens, "messages": [{"role": "user", "content": question}]}
            started = time.perf_counter()  # latency includes waiting out 429s, as a client sees it
            try:
                response = await http.post("/v1/chat/completions", json=body)
                while response.status_code == 429:
                    busy += 1
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    response = await http.post("/v1/chat/completions", json=body)
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
                written = response.json()["usage"]["completion_tokens"]
                (full_length if written >= max_tokens else shorter).append(latencies[-1])
                tokens += written
            else:
                errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1

    started, cpu_start = time.perf_counter(), cpu_seconds(pid)
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed, cpu_end = time.perf_counter() - started, cpu_seconds(pid)
    cpu = {"server_cpu_seconds_per_request": round((cpu_end - cpu_start) / len(latencies), 3)} \
        if cpu_start is not None and cpu_end is not None and latencies else {}
    return {
        "clients": clients, "requests": requests, "max_tokens": max_tokens, "errors": errors, "429s": busy,
        "seconds": round(elapsed, 2), "requests_per_second": round(len(latencies) / elapsed, 3),
        "p50_seconds": percentile(latencies, 0.5), "p95_seconds": percentile(latencies, 0.95),
        "completion_tokens_per_second": round(tokens / elapsed, 1), **cpu,
        # The tail: an answer whose draft runs to max_tokens stays in the running batch for every step.
        "full_length_requests": len(full_length), "full_length_p50_seconds": percentile(full_length, 0.5),
        "shorter_p50_seconds": percentile(shorter, 0.5),
    }


def cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system) the process has used so far (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def first_token_times(http: httpx.AsyncClient, n: int, pid: int | None = None) -> dict:
    """Streamed answers one at a time: seconds to the first content chunk, and to the last; with the
    server's `pid`, its CPU seconds up to the first content chunk and for the whole answer (robust to
    other load on the machine, unlike wall times: the server does nothing else meanwhile)."""
    firsts, wholes, grounding, cpu_firsts, cpu_wholes = [], [], {}, [], []
    for question in questions()[:n]:
        started, first, cpu_start, cpu_first = time.perf_counter(), None, cpu_seconds(pid), None
        body = {"model": "botkit", "stream": True, "messages": [{"role": "user", "content": question}]}
        async with http.stream("POST", "/v1/chat/completions", json=body) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: {"):
                    continue
                chunk = json.loads(line[6:])
                if first is None and any(c["delta"].get("content") for c in chunk.get("choices", [])):
                    first, cpu_first = time.perf_counter() - started, cpu_seconds(pid)
                if "grounding" in chunk.get("botkit", {}):
                    kind = chunk["botkit"]["grounding"]
                    grounding[kind] = grounding.get(kind, 0) + 1
        wholes.append(time.perf_counter() - started)
        if first is not None:
            firsts.append(first)
        if cpu_start is not None and cpu_first is not None:
            cpu_firsts.append(cpu_first - cpu_start)
            cpu_wholes.append(cpu_seconds(pid) - cpu_start)
    cpu = {"cpu_to_first_mean_seconds": round(sum(cpu_firsts) / len(cpu_firsts), 3),
           "cpu_to_first_p50_seconds": percentile(cpu_firsts, 0.5),
           "cpu_whole_mean_seconds": round(sum(cpu_wholes) / len(cpu_wholes), 3)} if cpu_firsts else {}
    return {"streamed": n, "ttft_p50_seconds": percentile(firsts, 0.5), "ttft_p95_seconds": percentile(firsts, 0.95),
            "whole_p50_seconds": percentile(wholes, 0.5), "grounding": grounding, **cpu}


def peak_rss_mb(pid: int) -> float | None:
    """The process's resident-set high-water mark (Linux), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def measure(url: str, key: str, args, pid: int | None = None) -> dict:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600) as http:
        await asyncio.sleep(args.idle)  # a server up for a while: its background work (sentence vectors) done
        # Warm-up: the first answer loads lazily built parts (few-shot index, vocabulary).
        await http.post("/v1/chat/completions", json={"model": "botkit", "max_tokens": args.max_tokens,
                                                       "messages": [{"role": "user", "content": questions()[0]}]})
        health = (await http.get("/healthz")).json()
        result = {"model": health["model"], "streaming": await first_token_times(http, args.streamed, pid), "load": []}
        for clients in args.clients:
            result["load"].append(await run_load(http, clients, max(args.requests, clients * 2), args.max_tokens,
                                                pid, args.start_at))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="*", default=[8, 32], help="none: streamed answers only")
    parser.add_argument("--requests", type=int, default=48, help="per run (at least 2 per client)")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--streamed", type=int, default=12, help="streamed answers timed one at a time")
    parser.add_argument("--start-at", type=int, default=0,
                        help="the load's first question: 0 asks the streamed answers' questions again first (12 "
                             "repeats in 48 with the defaults), 12 asks none the server answered recently")
    parser.add_argument("--idle", type=float, default=0, help="seconds the server stays idle after start-up first")
    parser.add_argument("--model", default="default", help="model for the server this script starts")
    parser.add_argument("--engine", default="auto", help="engine for the server this script starts")
    parser.add_argument("--url", help="an already running botkit serve")
    parser.add_argument("--key", help="its API key (scope chat)")
    parser.add_argument("--pid", type=int, help="its process id, for its peak RSS")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    proc = None
    with tempfile.TemporaryDirectory(prefix="botkit-serve-bench-") as tmp:
        if args.url:
            url, key = args.url, args.key or ""
        else:
            proc, url, key = start_server(args.model, args.engine, Path(tmp))
        try:
            pid = proc.pid if proc else args.pid
            result = asyncio.run(measure(url, key, args, pid))
            result["server_peak_rss_mb"] = peak_rss_mb(pid) if pid else None
        finally:
            if proc:
                proc.terminate()
                proc.wait(timeout=30)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    s = result["streaming"]
    print(f"{result['model']}: first streamed token p50 {s['ttft_p50_seconds']} s (whole answer p50 "
          f"{s['whole_p50_seconds']} s, {s['grounding']}); server peak RSS {result['server_peak_rss_mb']} MB")
    for r in result["load"]:
        print(f"  {r['clients']} clients, {r['requests']} requests (max_tokens {r['max_tokens']}): "
              f"{r['requests_per_second']} requests/s, p50 {r['p50_seconds']} s, p95 {r['p95_seconds']} s, "
              f"{r['429s']} 429s, errors {r['errors'] or 0}")


if __name__ == "__main__":
    main()
