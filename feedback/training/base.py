"""The life of a run, written once for every method: check and split the rows, open the run's
directory, build the method's trainer, train, measure on the held-out rows, register the version.
Each method's `train_*` supplies only its trainer (`build`) and its held-out metrics (`measure`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botkit.feedback.training.adapters import load_policy, new_adapter
from botkit.feedback.training.callbacks import ProgressCallback
from botkit.feedback.training.data import require, snapshot, split
from botkit.feedback.training.registration import register_version
from botkit.feedback.training.runs import fit, open_run, record_failure


@dataclass
class Built:
    """A method's trainer and where its version starts from."""

    trainer: object
    base: str  # the base model spec the version records
    parent: str | None = None  # the version whose adapter training continued


def train_version(config, rows: list[dict], out: str, *, kind: str, what: str,
                  build: Callable[[list[dict], list[dict], object], Built],
                  measure: Callable[[object, list[dict], list[dict]], dict],
                  source: str, resume: bool = False, settings=None, callbacks=()) -> dict:
    """Train on `rows` and register version `out` ('policy' or 'reward' `kind`); `what` names the rows
    in errors. `build(train, heldout, settings)` makes the trainer, `measure(trainer, train, heldout)`
    the metrics."""
    from botkit.config import load_settings

    settings = settings or load_settings()
    require(rows, config.min_examples, what, source)
    train, heldout = split(rows, config.test_fraction, config.seed)
    run = open_run(out, config, snapshot(train, heldout, source), resume=resume, settings=settings)
    config.output_dir = str(run.checkpoints)
    try:
        built = build(train, heldout, settings)
        for callback in (ProgressCallback(run.path / "progress.json"), *callbacks):
            built.trainer.add_callback(callback)
        fit(built.trainer, config, run.last_checkpoint() if resume else None)
        metrics = measure(built.trainer, train, heldout)
        return register_version(built.trainer, run, config, kind=kind, base=built.base, parent=built.parent,
                                metrics=metrics, heldout=heldout)
    except BaseException as exc:
        record_failure(run, exc)
        raise


def policy_trainer(trainer_class, config, examples: Callable[[list[dict], object, object], list[dict]]):
    """`build` for a policy method whose TRL trainer takes the policy, its new adapter and the train and
    held-out rows as `examples(rows, tokenizer, config)` makes them (SFT, DPO)."""
    def build(train, heldout, settings) -> Built:
        from datasets import Dataset

        policy = load_policy(config, settings)
        trainer = trainer_class(model=policy.model, args=config, processing_class=policy.tokenizer,
                                train_dataset=Dataset.from_list(examples(train, policy.tokenizer, config)),
                                eval_dataset=Dataset.from_list(examples(heldout, policy.tokenizer, config)),
                                peft_config=new_adapter(config, policy))
        return Built(trainer, policy.base, policy.parent)
    return build
