"""Time DPO steps on the default model (SmolLM2-135M + LoRA) with a profile's settings.

    python bench/train_dpo.py [--profile cpu] [--steps 4] [--batch 4] [--json]

Trains --steps optimizer steps on sample-brand pairs in a throwaway BOTKIT_HOME and reports the
seconds per step (the first step excluded) and the one-off reference log-prob precompute time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["BOTKIT_HOME"] = tempfile.mkdtemp(prefix="bench-dpo-")
    from train_timing import StepTimer, sample_pairs

    from botkit.feedback.training.config import load_config
    from botkit.feedback.training.dpo import DPORunConfig, train_dpo

    config = load_config(DPORunConfig, profile=args.profile, max_steps=args.steps,
                         per_device_train_batch_size=args.batch)
    pairs = sample_pairs(max(40, config.per_device_train_batch_size * (args.steps + 1)))
    timer, start = StepTimer(), time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # Trainer prints its logs on stdout
        version = train_dpo(config, pairs, "bench-dpo", source="bench", callbacks=[timer])
    total = time.perf_counter() - start
    result = {"profile": args.profile, "batch": config.per_device_train_batch_size, "max_length": config.max_length,
              "activation_checkpointing": config.activation_checkpointing,
              "precompute_ref_log_probs": config.precompute_ref_log_probs, "steps": args.steps,
              "seconds_per_step": round(timer.per_step(), 2), "step_times_s": [round(t, 2) for t in timer.times],
              "whole_run_s": round(total, 1), "heldout_reward_accuracy": version["metrics"]["heldout_reward_accuracy"]}
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
