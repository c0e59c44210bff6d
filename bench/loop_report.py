"""The loop benchmark's figures beyond the win rate (bench/loop.py): the reward model's length bias,
and the summary printed without --json."""

from __future__ import annotations


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
