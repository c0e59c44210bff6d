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
# Copy briefs: (plugin, brief); each plugin asked for one variant to keep sampling affordable.
BRIEFS = (("subject_lines", "An email about the {p} for our winter sale"),
          ("ad_copy", "A search ad for the {p}, built to last"),
          ("social_rewrite", "A post about the {p} as a gift for someone who loves mornings"))
COPY_OPTIONS = {"n": 1}
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


class Pace:
    """Seconds per answer, measured as the training prompts are answered: a greedy chat answer (its
    prompt read alone, as held-out answers are) and a copy brief; what sizes DPO to the time left."""

    def __init__(self):
        self.per = {"chat": None, "copy": None}

    def counting(self, step, *, first: int | None = None, kind: str = "chat"):
        """`step` for a progress bar, timing the first `first` answers (all of them without it)."""
        start, done = time.perf_counter(), 0

        def counted(n: int = 1) -> None:
            nonlocal done
            done += n
            if first is None or done <= first:
                self.per[kind] = (time.perf_counter() - start) / done
            step(n)
        return counted

    def seconds(self, chat: int, copy: int) -> float:
        return chat * (self.per["chat"] or 2.0) + copy * (self.per["copy"] or 10.0)

    def as_dict(self) -> dict:
        return {f"seconds_per_{k}_answer": None if v is None else round(v, 2) for k, v in self.per.items()}


def merged(reports: list):
    """One GenerationReport of several over disjoint prompts (answers and pairs in their order)."""
    from botkit.feedback.generate import GenerationReport

    out = GenerationReport()
    for r in filter(None, reports):
        out.prompts += r.prompts
        out.responses += r.responses
        out.pairs += r.pairs
        out.skipped = {k: out.skipped[k] + r.skipped[k] for k in out.skipped}
        out.answers += r.answers
        out.considered += r.considered
    return out


def stop_at(deadline: float, min_steps: int):
    """A trainer callback that ends training at the first step past `deadline` (time.perf_counter()),
    but not before `min_steps`: on a loaded machine a few steps more beat a version that never trained."""
    from transformers import TrainerCallback

    class StopAt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if time.perf_counter() >= deadline and state.global_step >= min_steps:
                control.should_training_stop = True

    return StopAt()


def pairs_to_rank(store, generation, prompts, contexts) -> list[tuple[dict, int, str, str, str]]:
    """(prompt, pair, a, b, source) for every pair the annotator ranks: the pairs `generate_pairs`
    queued for people ("queued"), then each prompt's best-of-N against its other candidates
    (`worth_ranking.best_versus_rest`, "best-of-n"), compared in the model's own words for chat: the
    tiny default model's drafts mostly fail the grounding check, so the shown answers are the same
    quote, yet what the model wrote is what DPO changes. The best is chosen by the product's checks
    (the copy checks), which are also what the simulated annotator prefers."""
    from botkit.feedback.worth_ranking import best_versus_rest

    out = []
    for p, ids, considered in zip(prompts, generation.answers, generation.considered):
        queued = {frozenset((a, b)) for pair, a, b, _why in considered if pair is not None}
        out += [(p, pair, a, b, "queued") for pair, a, b, _why in considered if pair is not None]
        rows = {}  # text -> a response whose text it is (chat: re-logged with the model's output as its text)
        for r in map(store.response, dict.fromkeys(ids)):
            text = (r.get("output") if not p["plugin"] else None) or r["text"]
            if text.strip() and text.strip() not in rows:
                rows[text.strip()] = r
        texts = list(rows)
        for best, other in best_versus_rest(texts, contexts[(p["prompt"], p["plugin"])].failures):
            a, b = (_logged_as(store, rows[texts[i]], texts[i]) for i in (best, other))
            if a != b and frozenset((a, b)) not in queued:
                out.append((p, store.add_pair(a, b, origin="generate"), a, b, "best-of-n"))
    return out


def _logged_as(store, r: dict, text: str) -> str:
    """The id of response `r` when `text` is its shown text, else of a copy of it showing `text`."""
    if r["text"].strip() == text:
        return r["id"]
    return store.log_response(r["prompt"], text, model=r["model_version"], plugin=r["plugin"], decoding=r["decoding"],
                              origin="generate", engine_messages=r["engine_messages"], output=r["output"])


def judge_pairs(store, annotator, pairs, contexts, step) -> dict:
    """Record the annotator's verdict on every pair; counts of each verdict by source of pairs."""
    counts = {source: {"a": 0, "b": 0, "tie": 0, "both-bad": 0} for source in ("queued", "best-of-n")}
    for p, pair, _a, _b, source in pairs:
        # The store keeps a pair as (smaller id, larger id) and a verdict names those: judge them in that order.
        stored = store.pair(pair)
        a, b = stored["a_id"], stored["b_id"]
        verdict = annotator.judge(p["prompt"], store.response(a)["text"], store.response(b)["text"],
                                  contexts[(p["prompt"], p["plugin"])])
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
    from botkit.feedback.training.sft import SFTRunConfig, preferred_examples, train_sft
    from botkit.plugins import get_annotator

    stages = Stages()
    settings = load_settings()
    if args.model:
        settings = settings.model_copy(update={"model": args.model, "engine": args.engine or settings.engine})
    # Answers are a sentence or two: a shorter cap cuts the runaway drafts' decoding (and DPO's sequences).
    settings = settings.model_copy(update={"decoding": settings.decoding.merged(max_new_tokens=args.max_new_tokens)})
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

    # The base's candidates: for a chat question its greedy answer and `samples` samples drawn in one
    # batch (the prompt read once); a copy brief, whose plugin samples and checks its own, twice.
    version = settings.model if args.model else "active"
    chat_cands = [Candidate(version, {"strategy": "greedy"}),
                  Candidate(version, {"strategy": "sample", "seed": 1}, n=args.samples)]
    copy_cands = [Candidate(version, {"strategy": "sample", "seed": 1}, n=args.copy_samples)]
    chat_rows = [p for p in train_prompts if not p["plugin"]]
    copy_rows = [p for p in train_prompts if p["plugin"]]
    pace = Pace()
    with stages.stage("answer chat prompts", len(chat_rows) * (1 + args.samples)) as step:
        chat_gen = generate_pairs(store, settings, chat_rows, chat_cands, embedder=embedder,
                                  on_step=pace.counting(step, first=len(chat_rows))) if chat_rows else None
    copy_cands[0].engine = chat_cands[0].engine
    with stages.stage("write copy", len(copy_rows) * args.copy_samples) as step:
        copy_gen = generate_pairs(store, settings, copy_rows, copy_cands, embedder=embedder,
                                  on_step=pace.counting(step, kind="copy")) if copy_rows else None
    generation = merged([chat_gen, copy_gen])
    rows_in_order = chat_rows + copy_rows
    bot = Bot(settings, engine=chat_cands[0].engine, embedder=embedder)
    contexts = {(p["prompt"], p["plugin"]): context_for(bot, p["prompt"], p["plugin"])
                for p in [*rows_in_order, *held_prompts]}
    ranked_pairs = pairs_to_rank(store, generation, rows_in_order, contexts)
    with stages.stage(f"rank ({annotator.name})", len(ranked_pairs)) as step:
        verdicts = judge_pairs(store, annotator, ranked_pairs, contexts, step)

    stages.save(pairs_queued=generation.pairs, pairs_skipped=generation.skipped, verdicts=verdicts,
                train_prompts=len(train_prompts), pace=pace.as_dict())
    rows = preferences_from_store(settings)
    if len(rows) < 8:
        raise BotkitError(f"only {len(rows)} preference pairs from {len(ranked_pairs)} ranked pairs "
                          f"({generation.summary()}): too few to train; give more prompts or samples")
    rm_config = load_config(RewardRunConfig, profile=args.profile, num_train_epochs=args.rm_epochs, seed=args.seed)
    with stages.stage("train reward model") as step, _quiet():
        rm = train_reward_model(rm_config, rows, "loop-rm", source="the ranking store", settings=settings)
    # With --sft-steps, best-of-n distillation (AlpacaFarm's expert iteration) first: SFT on each prompt's
    # answer the annotator preferred; DPO then continues that adapter, TRL keeping a frozen copy as reference.
    sft, examples = None, preferred_examples(rows) if args.sft_steps else []
    if len(examples) >= SFTRunConfig.min_examples:
        sft_config = load_config(SFTRunConfig, profile=args.profile, max_steps=args.sft_steps, seed=args.seed,
                                 learning_rate=args.sft_lr, lora_r=args.lora_r, lora_alpha=2 * args.lora_r,
                                 test_fraction=args.dpo_test_fraction)
        with stages.stage("train SFT (best of n)"), _quiet():
            sft = train_sft(sft_config, examples, "loop-sft", source="the annotator's preferred answers",
                            settings=settings)
    dpo_config = load_config(DPORunConfig, profile=args.profile, max_steps=args.dpo_steps, seed=args.seed,
                             learning_rate=args.dpo_lr, beta=args.dpo_beta, lora_r=args.lora_r,
                             lora_alpha=2 * args.lora_r, test_fraction=args.dpo_test_fraction,
                             parent="loop-sft" if sft else None,
                             # a reference pass over every row costs more than the few steps that fit
                             precompute_ref_log_probs=False)
    # DPO takes the minutes left once answering and judging the held-out prompts is paid for.
    held_chat = sum(not p["plugin"] for p in held_prompts)
    reserve = 2 * pace.seconds(held_chat, len(held_prompts) - held_chat) * 1.15 + 90
    deadline = stages.started + 60 * args.minutes - reserve
    stages.save(dpo_deadline_minutes=round((deadline - stages.started) / 60, 2))
    with stages.stage("train DPO") as step, _quiet():
        dpo = train_dpo(dpo_config, rows, "loop-dpo", source="the ranking store", settings=settings,
                        callbacks=[stop_at(deadline, min(args.dpo_min_steps, args.dpo_steps))])
    stages.save(preference_pairs=len(rows), rm=rm["metrics"], sft=sft and sft["metrics"], dpo=dpo["metrics"])

    base = settings.model if args.model else "default"
    compared = [Candidate(base, {"strategy": "greedy"}, engine=chat_cands[0].engine),
                Candidate("loop-dpo", {"strategy": "greedy"})]
    # Copy briefs with one seed for both versions: the versions differ, not the luck of the draw.
    asked = [{**p, "options": {**p["options"], "seed": args.seed}} if p["plugin"] else p for p in held_prompts]
    with stages.stage("answer held-out prompts", len(held_prompts) * 2) as step:
        held = generate_pairs(store, settings, asked, compared, embedder=embedder, on_step=step)
    scores, kinds, outcome = [], {"shown": 0, "outputs": 0}, {"a": 0, "b": 0, "tie": 0, "both-bad": 0}
    with stages.stage(f"judge held-out ({judge.name})", len(held_prompts)) as step:
        for p, shown in zip(held_prompts, held.answers):
            a, b, kind = heldout_texts(store, shown)
            verdict = judge.judge(p["prompt"], a, b, contexts[(p["prompt"], p["plugin"])])
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
        "sft_examples": len(examples) if sft else 0, "sft_steps": sft["metrics"]["steps"] if sft else 0,
        "dpo_heldout_reward_accuracy": dpo["metrics"]["heldout_reward_accuracy"], "dpo_steps": dpo["metrics"]["steps"],
        "pairs": ranked, "pairs_queued": generation.pairs, "pairs_skipped": generation.skipped,
        "train_prompts": len(train_prompts), "verdicts": verdicts,
        "both_bad_share": both_bad / ranked if ranked else None,
        "both_bad_share_queued": (verdicts["queued"]["both-bad"] / sum(verdicts["queued"].values())
                                  if sum(verdicts["queued"].values()) else None),
        "preference_pairs": len(rows), "annotator": annotator.name, "label_noise": getattr(annotator, "noise", None),
        "recipe": {"samples": args.samples, "copy_samples": args.copy_samples, "max_new_tokens": args.max_new_tokens,
                   "minutes": args.minutes, "rm_epochs": args.rm_epochs, "sft_steps": args.sft_steps,
                   "sft_lr": args.sft_lr, "dpo_steps": args.dpo_steps,
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
    parser.add_argument("--samples", type=int, default=5,
                        help="Sampled answers per chat prompt besides greedy (drawn in one batch).")
    parser.add_argument("--copy-samples", type=int, default=2, help="Seeded runs of a copy plugin per brief.")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="Tokens an answer may take.")
    parser.add_argument("--minutes", type=float, default=28,
                        help="The whole run's budget: DPO stops in time to answer and judge the held-out prompts.")
    parser.add_argument("--noise", type=float, default=0.15, help="The simulated annotator's label noise.")
    parser.add_argument("--annotator", default=ANNOTATOR, help="A registered annotator's name.")
    parser.add_argument("--rm-epochs", type=float, default=2)
    parser.add_argument("--sft-steps", type=int, default=0,
                        help="SFT steps on each training prompt's preferred answer before DPO (0: DPO from the base).")
    parser.add_argument("--sft-lr", type=float, default=2e-4)
    parser.add_argument("--dpo-steps", type=int, default=60, help="At most this many DPO steps (see --minutes).")
    parser.add_argument("--dpo-min-steps", type=int, default=16, help="DPO steps taken even past the budget.")
    parser.add_argument("--dpo-test-fraction", type=float, default=0.1, help="Preference pairs DPO holds out.")
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
        f"label noise {r['label_noise']}; SFT {r['sft_steps']} steps on {r['sft_examples']} preferred answers, "
        f"DPO {r['dpo_steps']} steps",
        f"minutes {r['minutes']} ({', '.join(f'{k} {v}' for k, v in r['minutes_by_stage'].items())}); home {r['home']}",
    ])


if __name__ == "__main__":
    sys.exit(main())
