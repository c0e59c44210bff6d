"""The loop benchmark's clock (bench/loop.py): minutes and a progress bar per stage, the figures saved
as they are known, the seconds an answer takes, and the callback that stops DPO in time."""

from __future__ import annotations

import contextlib
import json
import sys
import time


class Stages:
    """Minutes per stage, and a progress bar for each long one (on stderr: stdout is the result's)."""

    def __init__(self):
        from botkit.cli.output import progress

        self.minutes: dict[str, float] = {}
        self.bar, self.started = progress(), time.perf_counter()

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None):
        start = time.perf_counter()
        print(f"== {time.strftime('%H:%M:%S')} {name}", file=sys.stderr, flush=True)
        with self.bar:
            task = self.bar.add_task(name, total=total)
            yield lambda n=1: self.bar.update(task, advance=n)
            if total is None:  # a training stage counts no items: show it done, not "0/?"
                self.bar.update(task, total=1, completed=1)
            self.bar.stop_task(task)  # its clock stops with it, not when the whole run ends
        self.minutes[name] = round((time.perf_counter() - start) / 60, 2)
        self.save(minutes_by_stage=self.minutes)

    def save(self, **figures) -> None:
        """Keep the figures known so far in BOTKIT_HOME/loop.json: a run stopped halfway still says
        how far it got and what it measured."""
        from botkit.config import load_settings

        path = load_settings().home / "loop.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        known = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**known, **figures}, indent=2, default=str))

    def total(self) -> float:
        return round((time.perf_counter() - self.started) / 60, 2)


class Pace:
    """Seconds per answer, measured as the training prompts are answered: a greedy chat answer (its
    prompt read alone, as held-out answers are) and a copy brief; what sizes DPO to the time left."""

    def __init__(self):
        self.per = {"chat": None, "copy": None}

    def counting(self, step, *, first: int | None = None, kind: str = "chat"):
        """`step` for a progress bar, timing the first `first` answers (all of them without it)."""
        start, done = time.perf_counter(), 0

        def counted(n: int = 1) -> None:
            nonlocal done
            done += n
            if first is None or done <= first:
                self.per[kind] = (time.perf_counter() - start) / done
            step(n)
        return counted

    def seconds(self, chat: int, copy: int) -> float:
        return chat * (self.per["chat"] or 2.0) + copy * (self.per["copy"] or 10.0)

    def as_dict(self) -> dict:
        return {f"seconds_per_{k}_answer": None if v is None else round(v, 2) for k, v in self.per.items()}



def stop_at(deadline: float, min_steps: int):
    """A trainer callback that ends training at the first step past `deadline` (time.perf_counter()),
    but not before `min_steps`: on a loaded machine a few steps more beat a version that never trained."""
    from transformers import TrainerCallback

    class StopAt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if time.perf_counter() >= deadline and state.global_step >= min_steps:
                control.should_training_stop = True

    return StopAt()
