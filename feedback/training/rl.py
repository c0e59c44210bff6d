"""`botkit train rl`: online RL of the brand-voice model against a trained reward model and/or verifiable
rewards (the grounding check, the copy checks: `rewards.py`), with TRL's GRPOTrainer (PPO's clipped
surrogate over groups of sampled answers; TRL no longer ships PPOTrainer), a LoRA adapter and a KL
penalty (`beta`) to the base. Held-out: the rewards of the new policy's answers against the base's on
held-out prompts, both answered by botkit's own engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from trl import GRPOConfig

from botkit.errors import BotkitError
from botkit.feedback.registry import ModelRegistry
from botkit.feedback.training.adapters import load_policy, new_adapter
from botkit.feedback.training.base import Built, train_version
from botkit.feedback.training.config import BotkitFields
from botkit.feedback.training.data import as_chat, truncate_prompt_left
from botkit.feedback.training.rewards import check_reward_names, grounded_prompts, reward_functions

# Extra training questions this close (MiniLM cosine) to a held-out one are left out of training.
NEAR_HELDOUT = 0.8


@dataclass
class RLRunConfig(GRPOConfig, BotkitFields):
    """TRL's GRPOConfig with botkit's fields and the reward version to optimise."""

    reward_model: str | None = field(default=None, metadata={
        "help": "The registered reward version to optimise (same as --reward version:NAME); the newest one "
                "when no reward is named."})
    reward: list[str] = field(default_factory=list, metadata={
        "help": "Rewards to optimise, summed (weights: --reward_weights): grounding (the answer passes the "
                "grounding check against the sources in its prompt, cites the right one, stays short; give "
                "--data a file of `question` lines), copy-checks (share of the copy plugins' checks passed), "
                "version:NAME (a reward version), e.g. --reward grounding version:brand-rm."})

    train_questions: list[str] = field(default_factory=list, metadata={
        "help": "With --reward grounding: more files of `question` (or `prompt`) lines to train on only, never "
                "held out, e.g. a brand's product and feedback questions beside its eval set; a question "
                f"within cosine {NEAR_HELDOUT} of a held-out one is left out, so no held-out figure is learned "
                "from its paraphrase."})

    warm_start_epochs: float = field(default=0.0, metadata={
        "help": "With --reward grounding: before GRPO, supervised fine-tuning (LoRA) for this many epochs on the "
                "training chats (the serving chats, whole) with phrasing targets: a short answer rephrased from "
                "the source sentence holding the fact, kept only when the grounding check passes it in words the "
                "copy test does not count as a copy (`phrasing.py`). Registered as version OUT-warm; GRPO "
                "continues its adapter. The base rarely writes a draft the check passes in its own words, so "
                "GRPO's groups have nothing to prefer without it. 0: no warm start."})
    warm_start_learning_rate: float = field(default=5e-4, metadata={
        "help": "The warm start's learning rate (its LoRA and seed are the run's)."})
    warm_start_batch_size: int = field(default=4, metadata={
        "help": "The warm start's batch size: its chats are whole serving chats (~400 tokens here), so small "
                "batches give more updates for the same compute."})
    warm_start_samples: int = field(default=0, metadata={
        "help": "With --warm_start_epochs: expert iteration (ReST / RAFT): after the SFT on the phrasing targets "
                "(version OUT-warm1), sample this many drafts of each training chat from it (on llama.cpp when the "
                "model has a GGUF), keep those the grounding reward pays in full (the check shows them in the "
                "model's own words, they say and cite the fact, are whole, short and no copy), cut to the sentence "
                "chat shows, and continue the SFT on the targets and them (OUT-warm; `rejection_sampling.py`). "
                "The base model alone almost never writes such a draft (0 of 384 sampled here). 0: targets only."})
    warm_start_temperature: float = field(default=0.7, metadata={
        "help": "The sampling temperature of --warm_start_samples (top-p, top-k and repetition penalty are the "
                "serving decoding's)."})
    warm_start_keep: int = field(default=2, metadata={
        "help": "The most distinct sampled drafts kept per training chat (shortest first), so chats the model "
                "already phrases well do not crowd out the rest."})

    method: ClassVar[str] = "rl"


def rewards_of(config: RLRunConfig) -> list[str]:
    """The rewards a run optimises: `reward`, plus `reward_model` as a version."""
    named = list(config.reward or [])
    if config.reward_model and f"version:{config.reward_model}" not in named:
        named.append(f"version:{config.reward_model}")
    return named


def extra_questions(paths: list[str], heldout: list[dict], bot) -> tuple[list[dict], int]:
    """The grounded chats `bot` builds for the questions in `paths` (`question` or `prompt` lines, each
    question once), leaving out those near a `heldout` row's question, and how many were left out."""
    from botkit.jsonl import read_jsonl

    asked = {}
    for path in paths:
        for row in read_jsonl(Path(path)):
            question = row.get("question") or row.get("prompt")
            if isinstance(question, str) and question.strip():
                asked.setdefault(question.strip(), {"question": question.strip(), **{
                    k: row[k] for k in ("expected", "source") if row.get(k)}})
    if not asked:
        return [], 0
    held = [r["question"] for r in heldout]
    near = set()
    if held:
        questions = list(asked)
        similar = bot.embedder.encode(questions) @ bot.embedder.encode(held).T
        near = {q for q, row in zip(questions, similar) if row.max() >= NEAR_HELDOUT}
    kept = [q for q in asked.values() if q["question"] not in near]
    return grounded_prompts(bot, kept), len(near)


def warm_start(config: RLRunConfig, train: list[dict], name: str, settings) -> dict:
    """SFT (LoRA) on the grounded `train` rows that get a phrasing target, registered as version `name` (a tenth
    of the examples held out for its loss). With `warm_start_samples`, expert iteration: that SFT is version
    `name`1, K drafts of every training chat are sampled from it, those the grounding reward pays in full join
    the targets, and SFT continues its adapter on them all as version `name`. Returns the version with
    `examples`, `without_target` and the sampling counts."""
    from botkit.dialogue import Bot
    from botkit.feedback.training.config import load_config
    from botkit.feedback.training.phrasing import phrasing_examples
    from botkit.feedback.training.sft import SFTRunConfig, train_sft

    grounded, embedder = [r for r in train if r.get("sources")], Bot(settings).embedder
    rows, without = phrasing_examples(grounded, embedder, settings.answer_sentences)
    if len(rows) < SFTRunConfig.min_examples:
        raise BotkitError(f"the warm start found phrasing targets for {len(rows)} of {len(rows) + without} training "
                          "questions: too few to train on (give more with --train_questions)")

    def sft(parent: str | None, rows: list[dict], out: str, source: str) -> dict:
        run = load_config(SFTRunConfig, profile=config.profile, **{
            "model": config.model, "parent": parent, "peft": config.peft, "lora_r": config.lora_r,
            "lora_alpha": config.lora_alpha,
            "lora_dropout": config.lora_dropout, "lora_target_modules": config.lora_target_modules,
            "num_train_epochs": config.warm_start_epochs, "learning_rate": config.warm_start_learning_rate,
            "per_device_train_batch_size": config.warm_start_batch_size, "seed": config.seed,
            "test_fraction": 0.1, "max_length": 2048, "save_strategy": "no"})
        return train_sft(run, rows, out, source=source, settings=settings)

    source = f"phrasing targets for {len(rows)} training questions"
    if not config.warm_start_samples:
        return {**sft(config.parent, rows, name, source), "examples": len(rows), "without_target": without,
                "sampled": {}}
    from botkit.feedback.training.rejection_sampling import sample_drafts, sampled_examples, sampling_engine

    first = sft(config.parent, rows, f"{name}1", source)
    engine = sampling_engine(first["name"], settings, config.warm_start_samples)
    options = settings.decoding.merged(strategy="sample", temperature=config.warm_start_temperature,
                                       max_new_tokens=config.max_completion_length, seed=config.seed)
    drafts = sample_drafts(engine, grounded, config.warm_start_samples, options)
    del engine
    more, sampled = sampled_examples(grounded, drafts, embedder, settings.answer_sentences, config.warm_start_keep)
    # The kept drafts beside the version they were sampled from: what the second SFT learns, readable before it ends.
    kept = [{"question": r["question"], "completion": r["completion"]} for r in more]
    (Path(first["adapter_path"]) / "kept_drafts.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
    seen = {(r["question"], r["completion"]) for r in rows}
    rows += [r for r in more if (r["question"], r["completion"]) not in seen]
    without = len(grounded) - len({r["question"] for r in rows})
    version = sft(first["name"], rows, name, f"phrasing targets and drafts sampled from {first['name']} for "
                  f"{len(grounded) - without} training questions")
    return {**version, "examples": len(rows), "without_target": without,
            "sampled": {"first_version": first["name"], **sampled}}


def heldout_rewards(model, tokenizer, funcs: list, weights: list[float] | None, rows: list[dict],
                    max_new_tokens: int) -> dict:
    """Each reward's mean over the adapted policy's greedy answers and the base's (adapter off) on the
    held-out `rows`, their weighted sum (`heldout_reward`), and how often the policy's answer scored higher."""
    from botkit.decoding import DecodingOptions
    from botkit.models.transformers_engine import TransformersEngine

    engine = TransformersEngine(model.eval(), tokenizer, "training")
    prompts = [r["prompt"] for r in rows]
    chats, options = [as_chat(p) for p in prompts], DecodingOptions(max_new_tokens=max_new_tokens)
    columns = {k: [r.get(k) for r in rows] for k in rows[0] if k != "prompt"}
    weights = weights or [1.0] * len(funcs)

    def scored(texts: list[str]) -> tuple[list[float], dict]:
        each = {f.__name__: f(prompts=prompts, completions=texts, **columns) for f in funcs}
        total = [sum(w * s[i] for w, s in zip(weights, each.values())) for i in range(len(texts))]
        return total, {name: sum(s) / len(s) for name, s in each.items()}

    tuned, tuned_each = scored([g.text for g in engine.generate_batch(chats, options)])
    with model.disable_adapter():
        base, base_each = scored([g.text for g in engine.generate_batch(chats, options)])
    wins = sum(1.0 if t > b else 0.5 if t == b else 0.0 for t, b in zip(tuned, base))
    return {"heldout_reward": sum(tuned) / len(tuned), "heldout_base_reward": sum(base) / len(base),
            "heldout_win_rate_vs_base": wins / len(tuned), "heldout_prompts": len(prompts),
            **({f"heldout_reward_{n}": v for n, v in tuned_each.items()} if len(funcs) > 1 else {}),
            **({f"heldout_base_reward_{n}": v for n, v in base_each.items()} if len(funcs) > 1 else {})}


def train_rl(config: RLRunConfig, rows: list[dict], out: str, *, source: str, resume: bool = False,
             settings=None, callbacks=()) -> dict:
    """Optimise the policy on `rows` ({"prompt"}, plus the columns rewards read, e.g. `sources`) against
    `config.reward` and `config.reward_model` (the newest reward version when neither is given);
    register version `out`."""
    from botkit.config import load_settings

    settings = settings or load_settings()
    check_reward_names(config.reward)
    if not rewards_of(config):
        config.reward_model = (ModelRegistry.open(settings).latest("reward") or {}).get("name")
    if not rewards_of(config):
        raise BotkitError("online RL needs a reward: --reward grounding or copy-checks, or a reward model "
                          "(train one with `botkit train rm`, or name it with --reward-model)")
    if "grounding" in config.reward and not any(r.get("sources") for r in rows):
        raise BotkitError("--reward grounding scores answers against the sources in their prompts: give --data "
                          "a file of `question` lines (e.g. an eval set), answered from this home's documents")
    funcs = reward_functions(rewards_of(config), settings)  # a typo in a version fails before the run starts
    if config.warm_start_samples and not config.warm_start_epochs:
        raise BotkitError("--warm_start_samples samples drafts for the warm start: give --warm_start_epochs too")
    if config.warm_start_epochs and "grounding" not in config.reward:
        raise BotkitError("--warm_start_epochs trains on phrasing targets for grounded chats: add --reward grounding")
    if config.train_questions and "grounding" not in config.reward:
        raise BotkitError("--train_questions adds grounded chats for --reward grounding")
    for path in config.train_questions:
        if not Path(path).exists():
            raise BotkitError(f"{path}: no such file (--train_questions)")
    extra = {"rows": [], "near": 0}  # the training questions beyond the split's, filled in by build

    def build(train, heldout, settings) -> Built:
        from datasets import Dataset
        from trl import GRPOTrainer

        if config.train_questions:
            own = {r.get("question") for r in train + heldout}
            from botkit.dialogue import Bot

            more, near = extra_questions(config.train_questions, heldout, Bot(settings))
            extra.update(rows=[r for r in more if r["question"] not in own], near=near)
            train = train + extra["rows"]
        if config.warm_start_epochs:
            warm = warm_start(config, train, f"{out}-warm", settings)
            extra["warm"] = {"warm_start_version": warm["name"], "warm_start_examples": warm["examples"],
                             "warm_start_rows_without_target": warm["without_target"],
                             **{f"warm_start_{k}": v for k, v in warm["sampled"].items()}}
            config.parent = warm["name"]
        policy = load_policy(config, settings)
        policy.tokenizer.padding_side = "left"  # generation pads on the left
        # A grounded chat was fitted to the model's budget by the bot and stays whole; other prompts are cut.
        prompts = [{**r, "prompt": r["prompt"] if r.get("sources") else
                    truncate_prompt_left(as_chat(r["prompt"]), policy.tokenizer, config.max_prompt_length)}
                   for r in train]
        trainer = GRPOTrainer(model=policy.model, reward_funcs=funcs, args=config,
                              train_dataset=Dataset.from_list(prompts), processing_class=policy.tokenizer,
                              peft_config=new_adapter(config, policy))
        return Built(trainer, policy.base, policy.parent)

    def measure(trainer, train, heldout) -> dict:
        return {**heldout_rewards(trainer.model, trainer.processing_class, funcs, config.reward_weights, heldout,
                                  config.max_completion_length),
                "rewards": [f.__name__ for f in funcs], "reward_model": config.reward_model,
                "train_prompts": len(train) + len(extra["rows"]), "steps": trainer.state.global_step,
                **extra.get("warm", {}),
                **({"extra_train_prompts": len(extra["rows"]), "extra_left_out_near_heldout": extra["near"]}
                   if config.train_questions else {})}

    return train_version(config, rows, out, kind="policy", what="prompts", build=build, measure=measure,
                         source=source, resume=resume, settings=settings, callbacks=callbacks)
