"""`botkit eval rm`: how often a reward version scores the chosen answer of a preference pair above
the rejected one, on pairs it was not trained on."""

from __future__ import annotations

from botkit.errors import BotkitError


def evaluate_reward_model(name: str, rows: list[dict], settings=None) -> dict:
    """`version`, pairwise `accuracy` (chosen scored above rejected), `n` and `mean_margin` of reward
    version `name` on preference rows (`prompt`, `chosen`, `rejected`)."""
    from botkit.feedback.train_rm import RewardScorer

    if not rows:
        raise BotkitError("no preference pairs in the file")
    return {"version": name, **RewardScorer.load(name, settings).pairwise(rows)}
