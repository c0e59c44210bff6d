"""The promoted reward version as a ranker: it ranks best-of-N candidates only once it has beaten
brand similarity (the built-in scorer) on its own held-out pairs, and orders the Rank queue so the
pairs it is least sure of come first (active learning)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from botkit.errors import BotkitError

RANKER = "reward_version"  # the scorer's name, as best-of-N results and replies show it


def held_out_pairs(version: dict) -> list[dict]:
    """The preference rows a reward version held out of training (saved beside its adapter)."""
    path = Path(version["adapter_path"]) / "heldout.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pairwise_accuracy(scores_chosen: list[float], scores_rejected: list[float]) -> float | None:
    """Share of pairs scored chosen above rejected; a tie counts half (brand similarity ties often)."""
    pairs = list(zip(scores_chosen, scores_rejected))
    if not pairs:
        return None
    return sum(1.0 if c > r else 0.5 if c == r else 0.0 for c, r in pairs) / len(pairs)


def against_brand_similarity(name: str, settings, *, embedder=None, examples: list[str] | None = None) -> dict:
    """Reward version `name` against brand similarity on the version's held-out pairs: each one's
    pairwise accuracy, and whether the reward version `beats` it (strictly better, on at least one pair)."""
    from botkit.feedback.registry import ModelRegistry
    from botkit.feedback.training.reward import RewardScorer
    from botkit.tasks.scoring import brand_similarity

    version = ModelRegistry.open(settings).version(name)
    if version["kind"] != "reward":
        raise BotkitError(f"{name} is a policy version, not a reward model")
    rows = held_out_pairs(version)
    if not rows:  # nothing to show it beats brand similarity on (a version trained before they were kept)
        return {"pairs": 0, "reward_accuracy": None, "brand_similarity_accuracy": None, "beats": False}
    if examples is None or embedder is None:
        from botkit.dialogue import Bot

        bot = Bot(settings)
        examples = bot.brand.sample_copy if examples is None else examples
        embedder = embedder or bot.embedder
    reward = RewardScorer.load(name, settings).pairwise(rows)["accuracy"]
    brand = brand_similarity(embedder, examples)
    brand_accuracy = pairwise_accuracy(brand([r["chosen"] for r in rows]), brand([r["rejected"] for r in rows]))
    return {"pairs": len(rows), "reward_accuracy": reward, "brand_similarity_accuracy": brand_accuracy,
            "beats": reward > brand_accuracy}


def promoted_reward(bot_or_settings) -> dict | None:
    """The promoted reward version (setting `reward_model`) when it beat brand similarity, else None."""
    from botkit.feedback.registry import ModelRegistry

    settings = getattr(bot_or_settings, "settings", bot_or_settings)
    if not settings.reward_model or not Path(settings.database_path).exists():
        return None
    version = ModelRegistry.open(settings).get(settings.reward_model)
    if version is None or version["kind"] != "reward":
        return None
    comparison = (version["metrics"] or {}).get("vs_brand_similarity") or {}
    return version if comparison.get("beats") else None


@functools.lru_cache(maxsize=2)
def _scorer(name: str, adapter_path: str, home: str):
    from botkit.config import load_settings
    from botkit.feedback.training.reward import RewardScorer

    return RewardScorer.load(name, load_settings(home=Path(home)))


def reward_ranker(bot):
    """`register_scorers` maker: the promoted reward version as a scorer of (prompt, candidates), or
    None until one is promoted that beat brand similarity (brand similarity then ranks)."""
    version = promoted_reward(bot)
    if version is None:
        return None
    scorer = _scorer(version["name"], version["adapter_path"], str(bot.settings.home))

    def score(texts: list[str], prompt="") -> list[float]:
        return scorer.score([prompt or ""] * len(texts), texts)

    score.takes_prompt = True
    return score


def uncertain_first(store, annotator: str, settings, exclude=()) -> dict | None:
    """The next pair for `annotator` (as `RankingStore.next_pair` gives it) that the promoted reward
    version is least sure of: the smallest |score(a) - score(b)|. None when no reward version ranks
    (then the store's own order applies) or nothing is left to rank."""
    version = promoted_reward(settings)
    if version is None:
        return None
    rows = list(store.db.query(
        "SELECT p.id, q.text AS prompt, q.messages, a.text AS a_text, b.text AS b_text FROM pairs p"
        " JOIN prompts q ON q.id = p.prompt_id JOIN responses a ON a.id = p.a_id JOIN responses b ON b.id = p.b_id"
        " WHERE NOT EXISTS (SELECT 1 FROM comparisons m WHERE m.pair_id = p.id AND m.annotator = ?)",
        [annotator]))
    rows = [r for r in rows if r["id"] not in set(exclude)] or rows
    if not rows:
        return None
    margins = _margins(version, rows, settings)
    chosen = min(range(len(rows)), key=margins.__getitem__)
    # The store's next_pair hides the model versions and picks the left side: offer it only this pair.
    others = {r["id"] for r in rows} - {rows[chosen]["id"]}
    pair = store.next_pair(annotator, exclude=others)
    return {**pair, "margin": margins[chosen], "ranker": version["name"]} if pair else None


_MARGINS: dict[tuple[str, int], float] = {}  # (reward version, pair id) -> margin: a pair's texts never change


def _margins(version: dict, rows: list[dict], settings) -> list[float]:
    todo = [r for r in rows if (version["name"], r["id"]) not in _MARGINS]
    if todo:
        scorer = _scorer(version["name"], version["adapter_path"], str(settings.home))
        prompts = [json.loads(r["messages"]) if r["messages"] else r["prompt"] for r in todo]
        scores = scorer.score(prompts * 2, [r["a_text"] for r in todo] + [r["b_text"] for r in todo])
        for r, a, b in zip(todo, scores[:len(todo)], scores[len(todo):]):
            _MARGINS[version["name"], r["id"]] = abs(a - b)
    return [_MARGINS[version["name"], r["id"]] for r in rows]
