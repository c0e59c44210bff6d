"""Shared by the training benchmarks: preference pairs of realistic length from the sample brand's
rankings, and a callback timing optimizer steps."""

from __future__ import annotations

import json
import time
from pathlib import Path

from transformers import TrainerCallback

SAMPLE = Path(__file__).parent.parent / "examples" / "kettlebrook" / "feedback" / "sample_pairs.jsonl"


def sample_pairs(n: int) -> list[dict]:
    """`n` pairs cycling the sample rankings; each copy gets its own prompt so the split has room."""
    base = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    return [{"prompt": f"{row['prompt']} (customer {i})", "chosen": row["chosen"], "rejected": row["rejected"]}
            for i, row in ((i, base[i % len(base)]) for i in range(n))]


class StepTimer(TrainerCallback):
    """Seconds per optimizer step, first step excluded (it pays one-off warm-up costs)."""

    def __init__(self):
        self.times: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)

    def per_step(self) -> float:
        steady = self.times[1:] or self.times
        return sum(steady) / len(steady)
