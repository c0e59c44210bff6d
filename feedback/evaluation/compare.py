"""`botkit eval compare A B`: answer prompts with two model versions through candidate generation (so
the answers worth ranking also queue as blind pairs on the Rank page, see `worth_ranking`), score
both with a reward model and report B's win rate over A with a confidence interval, mean rewards and
length statistics.

Ties (the same text from both versions, or equal rewards) count half a win. The interval is Wilson's
score interval over prompts: unlike the normal approximation it stays inside [0, 1] and stays wide
at 0 or n wins, which small prompt sets often give. Length statistics are there because reward
models (and people) tend to prefer longer answers: a win that vanishes among length-matched pairs
is a length win, not a quality win.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from botkit.errors import BotkitError
from botkit.feedback.store import RankingStore

Z95 = 1.959964  # the normal quantile of a two-sided 95% interval
LENGTH_MATCH = 0.2  # two answers are "length-matched" when their lengths differ by at most 20%


def wilson_interval(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (`successes` may hold half wins from ties)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def default_reward_model(settings) -> str:
    """The newest registered reward version."""
    from botkit.feedback.registry import ModelRegistry

    latest = ModelRegistry.open(settings).latest("reward")
    if latest is None:
        raise BotkitError("no reward model is registered yet: train one first with "
                          "`botkit train rm --from-store --out NAME` (or pass --reward-model)")
    return latest["name"]


def compare_versions(version_a: str, version_b: str, prompts: list[dict], *, reward_model: str | None = None,
                     settings=None, embedder=None, batch_size: int = 8,
                     on_step: Callable[[int], None] = lambda n: None) -> dict:
    """Answer `prompts` (as `generate.read_prompts` returns them) greedily with both versions, queue the
    pairs for humans and score both sides with `reward_model` (default: the newest reward version)."""
    from botkit.config import load_settings
    from botkit.database import open_database
    from botkit.feedback.generate import candidates, generate_pairs
    from botkit.feedback.training.reward import RewardScorer

    settings = settings or load_settings()
    if version_a == version_b:
        raise BotkitError("give two different versions to compare")
    unique = list({(p["prompt"], p["plugin"]): p for p in prompts}.values())
    if not unique:
        raise BotkitError("no prompts to answer")
    # The reward model is checked first: a typo must fail before minutes of generation.
    reward_model = reward_model or default_reward_model(settings)
    scorer = RewardScorer.load(reward_model, settings)

    store = RankingStore(open_database(Path(settings.database_path)))
    cands = candidates([version_a, version_b], ["greedy"])
    generation = generate_pairs(store, settings, unique, cands, embedder=embedder, batch_size=batch_size,
                                on_step=on_step)
    label_a, label_b = cands[0].label, cands[1].label
    items = _compared_items(store, unique, generation)

    rewards = scorer.score([i["prompt"] for i in items] * 2,
                           [i["a_text"] for i in items] + [i["b_text"] for i in items])
    for i, (ra, rb) in enumerate(zip(rewards[:len(items)], rewards[len(items):])):
        items[i]["a_reward"], items[i]["b_reward"] = ra, rb
        same = items[i]["a_text"].strip() == items[i]["b_text"].strip() or ra == rb
        items[i]["b_score"] = 0.5 if same else float(rb > ra)

    n = len(items)
    wins = sum(i["b_score"] == 1.0 for i in items)
    ties = sum(i["b_score"] == 0.5 for i in items)
    win_rate = (wins + ties / 2) / n
    low, high = wilson_interval(wins + ties / 2, n)
    report = {
        "a": label_a, "b": label_b, "a_version": version_a, "b_version": version_b, "reward_model": reward_model,
        "prompts": n, "win_rate": win_rate, "ci": [low, high],
        "ci_method": "Wilson score interval, 95%, over prompts; ties count half a win",
        "wins": wins, "losses": n - wins - ties, "ties": ties,
        "mean_reward": {"a": _mean(i["a_reward"] for i in items), "b": _mean(i["b_reward"] for i in items)},
        "length": length_stats(items),
        "compared": {kind: sum(i["compared"] == kind for i in items) for kind in ("answers", "identical")},
        "queued_pairs": generation.pairs,
        "skipped_pairs": generation.skipped,
        "gate": _gate(version_b, settings),
        "items": items,
    }
    return report


def _compared_items(store: RankingStore, prompts: list[dict], generation) -> list[dict]:
    """Per prompt, the two shown answers the reward model compares (A first), the pair queued for
    humans (None when not worth ranking) and why it was skipped."""
    items = []
    for p, considered in zip(prompts, generation.considered):
        pair_id, a_id, b_id, why = considered[0]
        a_text, b_text = store.response(a_id)["text"], store.response(b_id)["text"]
        items.append({"prompt": p["prompt"], "plugin": p["plugin"], "pair_id": pair_id, "skipped": why,
                      "compared": "identical" if a_text.strip() == b_text.strip() else "answers",
                      "a_id": a_id, "b_id": b_id, "a_text": a_text, "b_text": b_text})
    return items


def length_stats(items: list[dict]) -> dict:
    """Mean characters of each side, the rank correlation of reward with length, B's win rate among
    length-matched pairs, and how often the reward model preferred the longer of two answers."""
    from scipy.stats import spearmanr

    a_len = [len(i["a_text"]) for i in items]
    b_len = [len(i["b_text"]) for i in items]
    lengths, rewards = a_len + b_len, [i["a_reward"] for i in items] + [i["b_reward"] for i in items]
    rho = spearmanr(lengths, rewards).statistic if len(set(lengths)) > 1 and len(set(rewards)) > 1 else None
    matched = [i["b_score"] for i, la, lb in zip(items, a_len, b_len)
               if abs(la - lb) <= LENGTH_MATCH * max(la, lb, 1)]
    uneven = [(la > lb) == (i["a_reward"] > i["b_reward"]) for i, la, lb in zip(items, a_len, b_len)
              if la != lb and i["b_score"] != 0.5]
    return {"mean_chars_a": _mean(a_len), "mean_chars_b": _mean(b_len),
            "reward_length_spearman": None if rho is None or math.isnan(rho) else float(rho),
            "length_matched_pairs": len(matched), "length_matched_win_rate": _mean(matched),
            "longer_preferred": _mean(uneven), "pairs_of_unequal_length": len(uneven)}


def _mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _gate(version: str, settings) -> dict | None:
    """The promotion gate of `version` when it is a registered policy version (humans vs. the active model)."""
    from botkit.feedback.registry import ModelRegistry

    registry = ModelRegistry.open(settings)
    row = registry.get(version)
    return registry.gate(version) if row and row["kind"] == "policy" else None
