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
import sys
import tempfile
import warnings
from pathlib import Path

# The loop's parts are sibling modules of this script (bench/ is not a package).
sys.path.insert(0, str(Path(__file__).parent))
from loop_prompts import BRAND, sample_brand_prompts, split_prompts  # noqa: E402
from loop_ranking import heldout_texts, judge_pairs, merged, pairs_to_rank  # noqa: E402
from loop_report import length_bias, summary  # noqa: E402
from loop_stages import Pace, Stages, stop_at  # noqa: E402

ANNOTATOR = "simulated"  # the built-in simulated annotator's name


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


if __name__ == "__main__":
    sys.exit(main())
