"""The feedback loop, measured (AlpacaFarm's method): on the sample brand in a throwaway BOTKIT_HOME,
generate candidate pairs for chat questions and copy briefs, have the simulated annotator rank them,
train a reward model and DPO on its verdicts, and judge the trained version against the base on
held-out prompts with the same annotator's declared preferences (not the reward model).

    .venv/bin/python bench/loop.py [--json]        # the recipe `make loop` runs
    .venv/bin/python bench/loop.py --annotator NAME  # a judge a plugin registers (register_annotators)

The held-out judge has no label noise (AlpacaFarm evaluates with its annotators' preferences, the
noise is for training labels); a tie or "both bad" counts half a win. Figures: the win rate with a
95% Wilson interval, the reward model's held-out accuracy and length bias, the "both bad" share of
the ranked pairs, and minutes per stage.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BRAND = REPO / "examples" / "kettlebrook"
PRODUCTS = ("Zephyr 3000", "Zephyr Mini", "Heron Gooseneck Kettle", "Brookside 2-Slice Toaster",
            "Brookside 4-Slice Toaster", "Millrace Burr Grinder", "Millrace Blade Grinder")
# Questions a customer asks about any product; the sample brand's knowledge answers most of them.
QUESTIONS = ("How much does the {p} cost?", "What is the warranty on the {p}?", "How do I clean the {p}?",
             "What comes in the box with the {p}?", "Can the {p} be repaired?", "Is the {p} dishwasher safe?",
             "What colors does the {p} come in?", "How big is the {p}?", "Can I return the {p}?",
             "Where is the {p} made?", "Is the {p} good for a small kitchen?")
# Copy briefs: (plugin, brief); each plugin asked for two variants to keep sampling affordable.
BRIEFS = (("subject_lines", "An email about the {p} for our winter sale"),
          ("ad_copy", "A search ad for the {p}, built to last"),
          ("social_rewrite", "A post about the {p} as a gift for someone who loves mornings"))
COPY_OPTIONS = {"n": 2}
ANNOTATOR = "simulated"  # the built-in simulated annotator's name


def sample_brand_prompts() -> list[dict]:
    """Every distinct prompt of the sample brand: its eval and feedback files, its knowledge's
    questions, and questions and copy briefs over each product (as `generate.read_prompts` rows)."""
    rows: list[dict] = []

    def lines(path: Path, key: str) -> list[str]:
        return [json.loads(line)[key] for line in path.read_text().splitlines() if line.strip()]

    texts = [*lines(BRAND / "eval/questions.jsonl", "question"),
             *lines(BRAND / "knowledge/product-questions.jsonl", "question"),
             *lines(BRAND / "feedback/demo_prompts.jsonl", "prompt"),
             *lines(BRAND / "feedback/heldout_prompts.jsonl", "prompt"),
             *(q.format(p=p) for q in QUESTIONS for p in PRODUCTS)]
    rows += [{"prompt": t, "plugin": None, "options": {}} for t in texts]
    briefs = [("subject_lines", t) for t in lines(BRAND / "eval/copy_briefs.jsonl", "text")]
    briefs += [(plugin, brief.format(p=p)) for plugin, brief in BRIEFS for p in PRODUCTS]
    rows += [{"prompt": t, "plugin": plugin, "options": dict(COPY_OPTIONS)} for plugin, t in briefs]
    return list({(r["prompt"].strip().lower(), r["plugin"]): r for r in rows}.values())


def split_prompts(prompts: list[dict], heldout: int, train: int | None, seed: int) -> tuple[list, list]:
    """(train, held-out) prompts, shuffled by `seed`, chat and copy mixed in proportion on both sides."""
    shuffled = prompts[:]
    random.Random(seed).shuffle(shuffled)
    held, rest = shuffled[:heldout], shuffled[heldout:]
    return (rest[:train] if train else rest), held


class Stages:
    """Minutes per stage, and a progress bar for each long one (on stderr: stdout is the result's)."""

    def __init__(self):
        from botkit.cli.output import progress

        self.minutes: dict[str, float] = {}
        self.bar, self.started = progress(), time.perf_counter()

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None):
        start = time.perf_counter()
        print(f"== {time.strftime('%H:%M:%S')} {name}", file=sys.stderr, flush=True)
        with self.bar:
            task = self.bar.add_task(name, total=total)
            yield lambda n=1: self.bar.update(task, advance=n)
        self.minutes[name] = round((time.perf_counter() - start) / 60, 2)
        self.save(minutes_by_stage=self.minutes)

    def save(self, **figures) -> None:
        """Keep the figures known so far in BOTKIT_HOME/loop.json: a run stopped halfway still says
        how far it got and what it measured."""
        from botkit.config import load_settings

        path = load_settings().home / "loop.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        known = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**known, **figures}, indent=2, default=str))

    def total(self) -> float:
        return round((time.perf_counter() - self.started) / 60, 2)


def pairs_to_rank(store, generation, prompts) -> list[tuple[dict, int, str, str, str]]:
    """(prompt, pair, a, b, source) for every pair the annotator ranks: the pairs `generate_pairs`
    queued for people ("queued"), and for each pair it skipped, the two outputs the model wrote behind
    it when they differ ("outputs"): the tiny default model's drafts mostly fail the grounding check,
    so the shown answers are the same quote, yet what the model wrote is what DPO changes."""
    out = []
    for p, considered in zip(prompts, generation.considered):
        for pair, a, b, _why in considered:
            if pair is not None:
                out.append((p, pair, a, b, "queued"))
                continue
            ra, rb = store.response(a), store.response(b)
            if not (ra.get("output") and rb.get("output")) or ra["output"].strip() == rb["output"].strip():
                continue
            a, b = (store.log_response(r["prompt"], r["output"], model=r["model_version"], plugin=r["plugin"],
                                       decoding=r["decoding"], origin="generate", engine_messages=r["engine_messages"],
                                       output=r["output"]) for r in (ra, rb))
            if a != b:
                out.append((p, store.add_pair(a, b, origin="generate"), a, b, "outputs"))
    return out


def judge_pairs(store, bot, annotator, pairs, step) -> dict:
    """Record the annotator's verdict on every pair; counts of each verdict by source of pairs."""
    from botkit.feedback.annotators import context_for

    counts = {source: {"a": 0, "b": 0, "tie": 0, "both-bad": 0} for source in ("queued", "outputs")}
    contexts: dict = {}
    for p, pair, a, b, source in pairs:
        key = (p["prompt"], p["plugin"])
        if key not in contexts:
            contexts[key] = context_for(bot, p["prompt"], p["plugin"])
        verdict = annotator.judge(p["prompt"], store.response(a)["text"], store.response(b)["text"], contexts[key])
        store.record_comparison(pair, annotator.name, verdict)
        counts[source][verdict] += 1
        step()
    return counts


def heldout_texts(store, shown: list[str]) -> tuple[str, str, str]:
    """(base text, trained text, what was compared): the shown answers, or the model's own outputs
    behind them when the shown answers are the same (a quote of the sources hides what the model wrote)."""
    a, b = (store.response(i) for i in shown[:2])
    if a["text"].strip() != b["text"].strip() or not (a.get("output") and b.get("output")):
        return a["text"], b["text"], "shown"
    return a["output"], b["output"], "outputs"


def length_bias(scorer, rows: list[dict]) -> dict:
    """The reward model on held-out pairs: accuracy, accuracy where the longer answer lost, and the
    rank correlation of reward with length over every held-out response."""
    from scipy.stats import spearmanr

    if not rows:
        return {"rm_accuracy_longer_lost": None, "rm_pairs_longer_lost": 0, "rm_reward_length_spearman": None}
    prompts = [r["prompt"] for r in rows]
    chosen = scorer.score(prompts, [r["chosen"] for r in rows])
    rejected = scorer.score(prompts, [r["rejected"] for r in rows])
    longer_lost = [c > r for row, c, r in zip(rows, chosen, rejected) if len(row["chosen"]) < len(row["rejected"])]
    lengths = [len(r["chosen"]) for r in rows] + [len(r["rejected"]) for r in rows]
    rho = spearmanr(lengths, chosen + rejected).statistic if len(set(lengths)) > 1 else None
    return {"rm_accuracy_longer_lost": sum(longer_lost) / len(longer_lost) if longer_lost else None,
            "rm_pairs_longer_lost": len(longer_lost),
            "rm_reward_length_spearman": None if rho is None or rho != rho else round(float(rho), 4)}


def run(args) -> dict:
    from botkit.config import load_settings
    from botkit.dialogue import Bot
    from botkit.embeddings import Embedder
    from botkit.errors import BotkitError
    from botkit.feedback.annotators import SimulatedAnnotator, context_for
    from botkit.feedback.evaluation.compare import wilson_interval
    from botkit.feedback.generate import Candidate, generate_pairs
    from botkit.feedback.store import RankingStore
    from botkit.feedback.training.config import load_config
    from botkit.feedback.training.data import preferences_from_store, split
    from botkit.feedback.training.dpo import DPORunConfig, train_dpo
    from botkit.feedback.training.reward import RewardRunConfig, RewardScorer, train_reward_model
    from botkit.plugins import get_annotator

    stages = Stages()
    settings = load_settings()
    if args.model:
        settings = settings.model_copy(update={"model": args.model, "engine": args.engine or settings.engine})
    annotator = judge = get_annotator(args.annotator)
    if isinstance(annotator, SimulatedAnnotator):  # the recipe's noise and seed, not the registered defaults
        annotator, judge = SimulatedAnnotator(noise=args.noise, seed=args.seed), SimulatedAnnotator(noise=0.0)
    embedder = Embedder()
    store = RankingStore.open(settings)
    store.add_annotator(annotator.name)

    prompts = sample_brand_prompts()
    if args.heldout < 1 or len(prompts) <= args.heldout:
        raise BotkitError(f"--heldout must be between 1 and {len(prompts) - 1} (the sample brand has "
                          f"{len(prompts)} prompts; the rest train)")
    train_prompts, held_prompts = split_prompts(prompts, args.heldout, args.train_prompts, args.seed)
    bot = Bot(settings, embedder=embedder)
    files = bot.knowledge.files_under(BRAND / "knowledge")
    with stages.stage("ingest", len(files)) as step:
        bot.knowledge.ingest(BRAND / "knowledge", on_file=lambda f: step())

    # Greedy plus sampled candidates of the base: the pairs people would be shown.
    cands = [Candidate(settings.model if args.model else "active", {"strategy": "greedy"}),
             *(Candidate(settings.model if args.model else "active", {"strategy": "sample", "seed": s + 1})
               for s in range(args.samples))]
    with stages.stage("generate pairs", len(train_prompts) * len(cands)) as step:
        generation = generate_pairs(store, settings, train_prompts, cands, embedder=embedder, on_step=step)
    bot = Bot(settings, engine=cands[0].engine, embedder=embedder)
    ranked_pairs = pairs_to_rank(store, generation, train_prompts)
    with stages.stage(f"rank ({annotator.name})", len(ranked_pairs)) as step:
        verdicts = judge_pairs(store, bot, annotator, ranked_pairs, step)

    stages.save(pairs_queued=generation.pairs, pairs_skipped=generation.skipped, verdicts=verdicts,
                train_prompts=len(train_prompts))
    rows = preferences_from_store(settings)
    if len(rows) < 8:
        raise BotkitError(f"only {len(rows)} preference pairs from {len(ranked_pairs)} ranked pairs "
                          f"({generation.summary()}): too few to train; give more prompts or samples")
    rm_config = load_config(RewardRunConfig, profile=args.profile, num_train_epochs=args.rm_epochs, seed=args.seed)
    with stages.stage("train reward model") as step, _quiet():
        rm = train_reward_model(rm_config, rows, "loop-rm", source="the ranking store", settings=settings)
    dpo_config = load_config(DPORunConfig, profile=args.profile, max_steps=args.dpo_steps, seed=args.seed,
                             learning_rate=args.dpo_lr, beta=args.dpo_beta, lora_r=args.lora_r,
                             lora_alpha=2 * args.lora_r)
    with stages.stage("train DPO") as step, _quiet():
        dpo = train_dpo(dpo_config, rows, "loop-dpo", source="the ranking store", settings=settings)
    stages.save(preference_pairs=len(rows), rm=rm["metrics"], dpo=dpo["metrics"])

    base = settings.model if args.model else "default"
    compared = [Candidate(base, {"strategy": "greedy"}), Candidate("loop-dpo", {"strategy": "greedy"})]
    with stages.stage("answer held-out prompts", len(held_prompts) * 2) as step:
        held = generate_pairs(store, settings, held_prompts, compared, embedder=embedder, on_step=step)
    scores, kinds, outcome = [], {"shown": 0, "outputs": 0}, {"a": 0, "b": 0, "tie": 0, "both-bad": 0}
    with stages.stage(f"judge held-out ({judge.name})", len(held_prompts)) as step:
        for p, shown in zip(held_prompts, held.answers):
            a, b, kind = heldout_texts(store, shown)
            verdict = judge.judge(p["prompt"], a, b, context_for(bot, p["prompt"], p["plugin"]))
            kinds[kind] += 1
            outcome[verdict] += 1
            scores.append({"b": 1.0, "a": 0.0}.get(verdict, 0.5))
            step()

    scorer = RewardScorer.load("loop-rm", settings)
    rm_heldout = split(rows, rm_config.test_fraction, rm_config.seed)[1]
    n = len(scores)
    low, high = wilson_interval(sum(scores), n)
    ranked = sum(sum(v.values()) for v in verdicts.values())
    both_bad = sum(v["both-bad"] for v in verdicts.values())
    report = {
        "win_rate": sum(scores) / n if n else None, "win_rate_low": low, "win_rate_high": high,
        "heldout_prompts": n, "wins": outcome["b"], "losses": outcome["a"], "ties": outcome["tie"],
        "both_bad": outcome["both-bad"], "compared": kinds,
        "judge": f"{judge.name} (noise {getattr(judge, 'noise', '-')})",
        "rm_accuracy": rm["metrics"]["heldout_accuracy"], "rm_heldout_pairs": rm["metrics"]["heldout_pairs"],
        **length_bias(scorer, rm_heldout),
        "dpo_heldout_reward_accuracy": dpo["metrics"]["heldout_reward_accuracy"], "dpo_steps": dpo["metrics"]["steps"],
        "pairs": ranked, "pairs_queued": generation.pairs, "pairs_skipped": generation.skipped,
        "train_prompts": len(train_prompts), "verdicts": verdicts,
        "both_bad_share": both_bad / ranked if ranked else None,
        "both_bad_share_queued": (verdicts["queued"]["both-bad"] / sum(verdicts["queued"].values())
                                  if sum(verdicts["queued"].values()) else None),
        "preference_pairs": len(rows), "annotator": annotator.name, "label_noise": getattr(annotator, "noise", None),
        "recipe": {"samples": args.samples, "rm_epochs": args.rm_epochs, "dpo_steps": args.dpo_steps,
                   "dpo_lr": args.dpo_lr, "dpo_beta": args.dpo_beta, "lora_r": args.lora_r, "profile": args.profile},
        "minutes_by_stage": stages.minutes, "minutes": stages.total(), "home": str(settings.home),
    }
    stages.save(**report)
    return report


@contextlib.contextmanager
def _quiet():
    """Trainers print their logs on stdout (and warn at length): keep stdout for the result alone."""
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="Print one JSON object (progress stays on stderr).")
    parser.add_argument("--heldout", type=int, default=100, help="Held-out prompts judged at the end.")
    parser.add_argument("--train-prompts", type=int, default=None, help="At most this many training prompts.")
    parser.add_argument("--samples", type=int, default=3, help="Sampled candidates per prompt besides greedy.")
    parser.add_argument("--noise", type=float, default=0.15, help="The simulated annotator's label noise.")
    parser.add_argument("--annotator", default=ANNOTATOR, help="A registered annotator's name.")
    parser.add_argument("--rm-epochs", type=float, default=4)
    parser.add_argument("--dpo-steps", type=int, default=40)
    parser.add_argument("--dpo-lr", type=float, default=5e-4)
    parser.add_argument("--dpo-beta", type=float, default=0.1)
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--model", default=None, help="A base model spec (default: the configured model).")
    parser.add_argument("--engine", default=None, help="With --model: the engine to load it on.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", default=None, help="The BOTKIT_HOME to use (default: a new temporary one).")
    args = parser.parse_args(argv)
    os.environ["BOTKIT_HOME"] = args.home or tempfile.mkdtemp(prefix="botkit-loop-")
    from botkit.errors import BotkitError

    try:
        report = run(args)
    except BotkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(summary(report))
    return 0


def summary(r: dict) -> str:
    pct = lambda x: "-" if x is None else f"{100 * x:.0f}%"  # noqa: E731
    return "\n".join([
        f"loop-dpo vs the base on {r['heldout_prompts']} held-out prompts, judged by {r['judge']}: win rate "
        f"{pct(r['win_rate'])} (95% Wilson {pct(r['win_rate_low'])}-{pct(r['win_rate_high'])}; {r['wins']} wins, "
        f"{r['losses']} losses, {r['ties']} ties, {r['both_bad']} both bad; compared {r['compared']})",
        f"reward model held-out accuracy {pct(r['rm_accuracy'])} on {r['rm_heldout_pairs']} pairs; where the "
        f"longer answer lost {pct(r['rm_accuracy_longer_lost'])} of {r['rm_pairs_longer_lost']}; reward~length "
        f"Spearman {r['rm_reward_length_spearman']}",
        f"{r['pairs']} pairs ranked ({r['pairs_queued']} queued for people) from {r['train_prompts']} prompts "
        f"({r['verdicts']}): both bad {pct(r['both_bad_share'])}; {r['preference_pairs']} preference pairs; "
        f"label noise {r['label_noise']}",
        f"minutes {r['minutes']} ({', '.join(f'{k} {v}' for k, v in r['minutes_by_stage'].items())}); home {r['home']}",
    ])


if __name__ == "__main__":
    sys.exit(main())
