"""Time `botkit train rm` (MiniLM backbone, cpu profile) and estimate the full run on N pairs.

    python bench/train_rm.py [--pairs 1000] [--steps 12 | --steps -1 for the whole run] [--json]

Runs --steps optimizer steps on N pairs of sample-brand length in a throwaway BOTKIT_HOME, then
estimates the whole default run (2 epochs over the training split, plus scoring the held-out split)
from the measured seconds per step: an estimate, said so in the output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["BOTKIT_HOME"] = tempfile.mkdtemp(prefix="bench-rm-")
    from train_timing import StepTimer, sample_pairs

    from botkit.feedback.training.config import load_config
    from botkit.feedback.training.data import split
    from botkit.feedback.training.reward import RewardRunConfig, RewardScorer, train_reward_model

    rows = sample_pairs(args.pairs)
    config = load_config(RewardRunConfig, max_steps=args.steps)
    timer, start = StepTimer(), time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # Trainer prints its logs on stdout
        version = train_reward_model(config, rows, "bench-rm", source="bench", callbacks=[timer])
    measured = time.perf_counter() - start
    train, heldout = split(rows, config.test_fraction, config.seed)
    scorer = RewardScorer.load("bench-rm")
    t0 = time.perf_counter()
    scorer.pairwise(heldout[:64])
    score_per_pair = (time.perf_counter() - t0) / min(64, len(heldout))
    steps = math.ceil(len(train) / config.per_device_train_batch_size) * config.num_train_epochs
    estimate = steps * timer.per_step() + len(heldout) * score_per_pair
    result = {"pairs": args.pairs, "train_pairs": len(train), "heldout_pairs": len(heldout),
              "batch": config.per_device_train_batch_size, "max_length": config.max_length,
              "epochs": config.num_train_epochs, "measured_steps": args.steps,
              "seconds_per_step": round(timer.per_step(), 2), "measured_run_s": round(measured, 1),
              "estimated_full_run_min": round(estimate / 60, 1), "full_run_steps": steps,
              "heldout_accuracy_after_measured_steps": version["metrics"]["heldout_accuracy"],
              "note": "estimate = full-run steps x measured seconds per step + held-out scoring"}
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
