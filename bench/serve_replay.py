"""serve_load's order of requests replayed straight into llama.cpp's running batch: CPU seconds a request
and tokens through `llama_decode` a request, for comparing engine settings on a busy machine (CPU seconds
of a 1-thread engine do not move with the load; wall times do).

    python bench/serve_replay.py --record FILE [--start-at 0] [--requests 48]   # answer serve_load's order once
    python bench/serve_replay.py --replay FILE [--rows 8] [--threads 1] [--json]

--record answers serve_load's questions in its order one at a time, as `botkit serve` does (`BotPool` +
`api.stream_chat`: a warm-up, the 12 streamed answers with the default max_new_tokens, then the load's
requests with max_tokens 16), in a throwaway BOTKIT_HOME with the sample brand ingested, and writes each
chat the model was asked (messages, decoding options) with the tokens its row decoded before the answer
left the batch (a grounded answer leaves at its last checked sentence). --replay loads the engine as the
settings say (BOTKIT_ENGINES__LLAMACPP__* in the environment: kv_unified, context, parked_chats) on
`--threads` threads, reads the warm-up and streamed chats one at a time, then the load's chats `--rows` at
a time into one `ContinuousBatch` (a row leaves once it has its recorded tokens; the next joins at once),
and reports the load part's CPU seconds, and each chat's latency in CPU seconds of the steps it was in (on one
thread: its wall seconds on a quiet core, the server's own work apart), p50 and p95; the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_load import peak_rss_mb, percentile, questions  # noqa: E402


def record(path: Path, start_at: int, requests: int, max_tokens: int, streamed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="botkit-replay-") as home:
        os.environ["BOTKIT_HOME"] = home
        os.environ.pop("BOTKIT_CONFIG", None)
        from botkit.prompting.brand import sample_brand_dir

        subprocess.run(
            [sys.executable, "-m", "botkit", "ingest", str(sample_brand_dir() / "knowledge"), "--json"],
            check=True,
            capture_output=True,
        )
        from botkit import api
        from botkit.config import load_settings
        from botkit.models.llamacpp import LlamaCppEngine
        from botkit.models.llamacpp_continuous import ContinuousBatch
        from botkit.server.generation import BotPool

        chats: list[dict] = []
        phase = ["warm-up"]

        class Recording(ContinuousBatch):
            def join(self, messages, options):
                row = super().join(messages, options)
                if row is not None:
                    row.record = {"phase": phase[0], "messages": messages, "options": options.model_dump()}
                    chats.append(row.record)
                return row

            def leave(self, row):
                row.record.update(tokens=len(row.tokens), finish=row.finish, draft=row.scanner.text)
                super().leave(row)

        LlamaCppEngine.continuous_batch = lambda self: Recording(self)
        bot = BotPool(load_settings()).active
        asked = questions()
        order = [("warm-up", asked[0], max_tokens)] + [("streamed", q, None) for q in asked[:streamed]]
        order += [("load", asked[(start_at + i) % len(asked)], max_tokens) for i in range(requests)]
        replies = []
        for phase[0], question, tokens in order:
            decoding = {"max_new_tokens": tokens} if tokens else {}
            chat = api.stream_chat(bot, [{"role": "user", "content": question}], **decoding)
            *_, item = chat  # the Reply comes last
            replies.append(
                {
                    "phase": phase[0],
                    "question": question,
                    "text": item.text,
                    "grounding": item.grounding,
                    "check": item.check,
                    "draft": item.draft,
                }
            )
        path.with_suffix(".replies.json").write_text(json.dumps(replies, indent=1))
        time.sleep(0.5)  # the last row leaves on the scheduler's thread
    path.write_text(json.dumps(chats))
    print(
        f"{len(chats)} chats reached the model ({sum(c['phase'] == 'load' for c in chats)} of the load's "
        f"{requests}) -> {path}"
    )


def replay(path: Path, rows: int, threads: int) -> dict:
    os.environ["BOTKIT_ENGINES__THREADS"] = str(threads)
    from botkit.config import load_settings
    from botkit.decoding import DecodingOptions
    from botkit.models.builtin_engines import load_llamacpp

    settings = load_settings()
    chats = json.loads(path.read_text())
    engine = load_llamacpp(settings.model, settings)
    batch = engine.continuous_batch()

    def run(todo: list[dict], width: int) -> list[float]:
        """The chats, `width` at a time; each one's latency in CPU seconds of the steps it was in (on one
        thread: its wall seconds on a quiet core, the server's own work apart)."""
        running: list[list] = []  # [row, tokens to decode, CPU clock at its join]
        latencies = []
        while todo or running:
            while todo and len(running) < width:
                chat = todo[0]
                row = batch.join(chat["messages"], DecodingOptions(**chat["options"]))
                if row is None:
                    break
                running.append([row, chat["tokens"], time.process_time()])
                todo.pop(0)
            batch.step()
            for entry in list(running):
                row, tokens, joined = entry
                if row.finish is not None or len(row.tokens) >= tokens:
                    batch.leave(row)
                    running.remove(entry)
                    latencies.append(time.process_time() - joined)
            if not running:
                batch.release()
        return latencies

    run([c for c in chats if c["phase"] != "load"], 1)
    load = [c for c in chats if c["phase"] == "load"]
    cpu, wall, decoded = time.process_time(), time.perf_counter(), engine.cells.tokens_decoded
    latencies = run(list(load), rows)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    config = settings.engines.llamacpp
    return {
        "requests": len(load),
        "rows": rows,
        "threads": threads,
        "kv_unified": config.kv_unified,
        "parked_chats": config.parked_chats,
        "context": engine.context_window,
        "cpu_seconds_per_request": round(cpu / len(load), 3),
        "wall_seconds_per_request": round(wall / len(load), 3),
        "tokens_decoded_per_request": round((engine.cells.tokens_decoded - decoded) / len(load), 1),
        "cpu_ms_per_token": round(1000 * cpu / (engine.cells.tokens_decoded - decoded), 2),
        "latency_p50_cpu_seconds": percentile(latencies, 0.5),
        "latency_p95_cpu_seconds": percentile(latencies, 0.95),
        "latency_mean_cpu_seconds": round(sum(latencies) / len(latencies), 3),
        "peak_rss_mb": peak_rss_mb(os.getpid()),
        "load_average": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, help="answer serve_load's order and write the chats here")
    parser.add_argument("--replay", type=Path, help="replay the chats written by --record")
    parser.add_argument("--start-at", type=int, default=0)
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--streamed", type=int, default=12)
    parser.add_argument("--rows", type=int, default=8, help="chats decoding at once (serve_load's clients)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.record:
        record(args.record, args.start_at, args.requests, args.max_tokens, args.streamed)
    if args.replay:
        result = replay(args.replay, args.rows, args.threads)
        if args.json:
            print(json.dumps(result, indent=2))
            return
        r = result
        print(
            f"{r['cpu_seconds_per_request']} CPU s a request, {r['tokens_decoded_per_request']} tokens a request "
            f"({r['cpu_ms_per_token']} ms a token), kv_unified {r['kv_unified']}, parked {r['parked_chats']}; "
            f"a request's steps: p50 {r['latency_p50_cpu_seconds']}, p95 {r['latency_p95_cpu_seconds']} CPU s; "
            f"peak RSS {r['peak_rss_mb']} MB; load {r['load_average']}"
        )


if __name__ == "__main__":
    main()
