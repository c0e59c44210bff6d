"""How a copy plugin does on a set of briefs: does every variant keep the limits, are the
variants distinct and free of loops, how close to the brand's copy is the best one, how long it
takes. `Task.evaluate` of the copy plugins; `botkit eval task NAME FILE.jsonl` runs it.

It lives with the loop's other measurements, not in the core (which never imports it): plugins are
leaves, so the copy plugins, built-in or third-party, import it from here and pass their own
per-task limits in as `problems`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from botkit.errors import BotkitError
from botkit.tasks import brand_similarity, repeats_itself

# One output row and the run's options -> what is wrong with it ([] when nothing is).
Problems = Callable[[dict, object], list[str]]


def copy_text(row: dict) -> str:
    """The copy of an output row: its text fields, joined."""
    return " ".join(v for v in row.values() if isinstance(v, str) and v)


def evaluate_copy(task, bot, dataset: list[dict], problems: Problems, on_progress=None, **options) -> dict:
    """Run `task` on each `{"text": ..., "options": {...}}` row (row options over `options`)."""
    if not dataset:
        raise BotkitError("the dataset is empty")
    outputs, found, flawed, best, started = [], Counter(), 0, [], time.perf_counter()
    for done, item in enumerate(dataset, 1):
        merged = {**options, **item.get("options", {})}
        rows = bot.run_task(task.name, item["text"], **merged).output
        parsed = task.parse_options(merged)
        for row in rows:
            text = copy_text(row)
            wrong = problems(row, parsed) + (["repeats itself"] if repeats_itself(text) else [])
            wrong += [] if text else ["empty"]
            found.update(wrong)
            flawed += bool(wrong)
            outputs.append(text)
        best.append(copy_text(rows[0]))
        if on_progress:
            on_progress(done)
    seconds = time.perf_counter() - started
    similarity = brand_similarity(bot.embedder, bot.brand.sample_copy)(best)
    return {
        "task": task.name,
        "inputs": len(dataset),
        "outputs": len(outputs),
        "problems": dict(found.most_common()),
        "within_limits": round(1 - flawed / len(outputs), 4) if outputs else 0.0,
        "distinct": round(len({t.lower() for t in outputs}) / len(outputs), 4) if outputs else 0.0,
        "best_brand_similarity": round(sum(similarity) / len(similarity), 4),
        "mean_characters": round(sum(map(len, outputs)) / len(outputs), 1) if outputs else 0.0,
        "seconds_per_input": round(seconds / len(dataset), 2),
    }
