"""Candidate pairs for ranking: answer each prompt with several model versions and/or decodings and
queue every two answers worth a person's time as a pair (`worth_ranking`: both passed their checks
and they differ in substance), counting the pairs skipped and why.

Grounded answers come from `Bot.answer_batch` (retrieval, few-shot, grounding check: the same path
as chat, with one batched generate call per batch of prompts).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from botkit.errors import BotkitError
from botkit.feedback.reply_log import model_saw, sources_of
from botkit.feedback.worth_ranking import SKIP_REASONS, answer_passes, copy_passes, skip_reason

STRATEGIES = ("greedy", "beam", "sample")


@dataclass
class Candidate:
    """One way to answer: a model version (anything `botkit models use` accepts) and a decoding."""

    version: str
    decoding: dict
    label: str = ""
    engine: object = None
    # Answers drawn per prompt (sampling, each with its own seed): asked in one batch, so llama.cpp
    # reads the prompt once for all of them and the extra samples cost only their own tokens.
    n: int = 1


@dataclass
class GenerationReport:
    prompts: int = 0
    responses: int = 0
    pairs: int = 0
    # Pairs not queued, by reason (`worth_ranking.SKIP_REASONS`): the same text, near-identical texts
    # (only whitespace, punctuation or one word apart) or a candidate that failed its checks.
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SKIP_REASONS, 0))
    versions: list[str] = field(default_factory=list)
    # Per prompt: the response ids shown, in candidate order, and every pair considered as
    # (pair id or None when skipped, a, b, skip reason or None), in candidate order.
    answers: list[list[str]] = field(default_factory=list, repr=False)
    considered: list[list[tuple[int | None, str, str, str | None]]] = field(default_factory=list, repr=False)

    @property
    def identical(self) -> int:
        return self.skipped["identical"]

    def as_dict(self) -> dict:
        return {**{k: v for k, v in self.__dict__.items() if k not in ("answers", "considered")},
                "identical": self.identical}

    def summary(self) -> str:
        """"3 skipped: 1 identical, 2 failed checks" (the reasons that occurred), or "none skipped"."""
        total = sum(self.skipped.values())
        reasons = ", ".join(f"{n} {why}" for why, n in self.skipped.items() if n)
        return f"{total} skipped: {reasons}" if total else "none skipped"


def read_prompts(path) -> list[dict]:
    """`{"prompt": ...}` or `{"text": ...}` lines, optionally with `plugin` (and its `options`)."""
    from pathlib import Path

    from botkit.jsonl import read_jsonl

    rows = []
    for n, row in enumerate(read_jsonl(Path(path)), 1):
        text = row.get("prompt", row.get("text"))
        if not isinstance(text, str) or not text.strip():
            raise BotkitError(f"{path}: prompt {n} has no 'prompt' or 'text' string")
        rows.append({"prompt": text.strip(), "plugin": row.get("plugin"), "options": row.get("options") or {}})
    return rows


def chat_prompts(db, limit: int | None = None) -> list[dict]:
    """Distinct user turns logged in chat sessions (slash commands left out), oldest first."""
    rows = db.query("SELECT content FROM messages WHERE role = 'user' GROUP BY content ORDER BY min(id)")
    prompts = [{"prompt": r["content"].strip(), "plugin": None, "options": {}} for r in rows
               if r["content"].strip() and not r["content"].lstrip().startswith("/")]
    return prompts[:limit] if limit else prompts


def candidates(versions: list[str], decodings: list[str], seed: int | None = None) -> list[Candidate]:
    """Every version with every decoding; at least two, or there is nothing to compare."""
    for d in decodings:
        if d not in STRATEGIES:
            raise BotkitError(f"unknown decoding '{d}' (one of {', '.join(STRATEGIES)})")
    out = [Candidate(v, {"strategy": d, **({"seed": seed} if seed is not None and d == "sample" else {})})
           for v, d in itertools.product(versions, decodings)]
    if len(out) < 2:
        raise BotkitError("give two versions (--versions A,B) or two decodings (--decodings greedy,sample)")
    return out


def generate_pairs(store, settings, prompts: list[dict], cands: list[Candidate], *, embedder=None,
                   batch_size: int = 8, on_step: Callable[[int], None] = lambda n: None) -> GenerationReport:
    """Answer every prompt with every candidate, log the answers and pair them up (origin 'generate')."""
    from botkit.dialogue import Bot
    from botkit.plugins import get_tasks

    if not prompts:
        raise BotkitError("no prompts to answer")
    tasks = get_tasks()
    for p in prompts:  # a typo must fail before minutes of model loading, not halfway through
        if p["plugin"]:
            if p["plugin"] not in tasks:
                raise BotkitError(f"unknown plugin '{p['plugin']}' (plugins: {', '.join(sorted(tasks))})")
            tasks[p["plugin"]].parse_options(p["options"])
    if embedder is None:
        from botkit.embeddings import Embedder

        embedder = Embedder()
    _load_engines(cands, settings)
    report = GenerationReport(prompts=len(prompts), versions=sorted({c.label for c in cands}))
    answers: list[list[str]] = [[] for _ in prompts]  # response ids per prompt
    passed: dict[str, bool] = {}  # response id -> it passed its checks (grounding, or the copy checks)
    for n, c in enumerate(cands):
        bot = Bot(settings.model_copy(update={"decoding": settings.decoding.merged(**c.decoding)}),
                  engine=c.engine, embedder=embedder)
        log = {"model": c.label, "decoding": bot.settings.decoding.model_dump(), "origin": "generate"}
        chat = [i for i, p in enumerate(prompts) if not p["plugin"]]
        for start in range(0, len(chat), batch_size):
            chunk = [(i, k) for i in chat[start:start + batch_size] for k in range(c.n)]
            for (i, k), reply in zip(chunk, bot.answer_batch([prompts[i]["prompt"] for i, _ in chunk])):
                # Few-shot examples were only in the prompt when the model was asked (not a canned reply).
                asked = reply.grounding in ("generated", "quoted")
                kept = {"sources": sources_of(reply.citations),
                        "examples": bot.fewshot.select(prompts[i]["prompt"]) if asked else [], **log}
                if k:  # each of n samples is its own response, even when all show the same quote
                    kept["decoding"] = {**log["decoding"], "seed": (log["decoding"]["seed"] or 0) + k}
                answers[i].append(store.log_response(prompts[i]["prompt"], reply.text, **kept, **model_saw(reply)))
                passed[answers[i][-1]] = answer_passes(reply.grounding)
            on_step(len(chunk))
        for i, p in enumerate(prompts):
            for k in range(c.n if p["plugin"] else 0):
                task = tasks[p["plugin"]]
                # Sampled copy differs only if each candidate (and each of its n) samples with its own seed.
                seed = n + k * len(cands)
                seeded = {"seed": seed} if "seed" in task.Options.model_fields and "seed" not in p["options"] else {}
                result = bot.run_task(p["plugin"], p["prompt"], **p["options"], **seeded)
                answers[i].append(store.log_response(
                    p["prompt"], result.text, plugin=p["plugin"], sources=sources_of(result.citations),
                    examples=task.examples, **log, **model_saw(result)))
                passed[answers[i][-1]] = copy_passes(result.output, result.text)
                on_step(1)
    report.responses = sum(len(set(ids)) for ids in answers)
    report.answers, report.considered = answers, [[] for _ in prompts]
    for ids, considered in zip(answers, report.considered):
        for a, b in itertools.combinations(ids, 2):
            if a == b:  # one answer logged twice (same text, model and decoding) is no pair at all
                considered.append((None, a, b, "identical"))
                report.skipped["identical"] += 1
                continue
            why = skip_reason(store.response(a)["text"], passed[a], store.response(b)["text"], passed[b])
            if why:
                report.skipped[why] += 1
                considered.append((None, a, b, why))
                continue
            considered.append((store.add_pair(a, b, origin="generate"), a, b, None))
            report.pairs += 1
    return report


def _load_engines(cands: list[Candidate], settings) -> None:
    """Load each version once ('active' is the configured model and adapter) and name it."""
    from botkit.models.loading import load_engine

    engines: dict[str, object] = {}
    for c in cands:
        if c.engine is None:
            if c.version not in engines:
                engines[c.version] = (
                    load_engine(settings.model, settings.cache_dir, adapter=settings.adapter, device=settings.device)
                    if c.version == "active" else load_engine(c.version, settings.cache_dir, device=settings.device))
            c.engine = engines[c.version]
    several_decodings = len({json.dumps(c.decoding, sort_keys=True) for c in cands}) > 1
    for c in cands:
        # Two versions that load under one name (two dirs both called "model") keep their given spec;
        # one version under two decodings is two systems on the leaderboard ("name (sample)").
        c.label = c.engine.name if _unique_name(cands, c) else c.version
        if several_decodings:
            c.label += f" ({c.decoding['strategy']})"


def _unique_name(cands: list[Candidate], c: Candidate) -> bool:
    """True when no other version loads under the same engine name as `c`."""
    return len({d.version for d in cands if d.engine.name == c.engine.name}) == 1
