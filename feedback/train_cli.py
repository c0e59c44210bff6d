"""`botkit train {sft,rm,dpo,rl}`, `botkit models promote|rollback` and `botkit eval rm`: thin
commands over the training functions and the model registry (heavy imports happen inside them)."""

from __future__ import annotations

import contextlib
import json
import sys
import warnings
from pathlib import Path
from typing import Optional

import typer

from botkit.errors import BotkitError
from botkit.feedback.train_config import CONFIGS, load_config

train_app = typer.Typer(help="Train adapters from your copy and rankings; each run becomes a model version.",
                        no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")
DATA = typer.Option(None, "--data", help="A JSONL file (TRL format).")
FROM_STORE = typer.Option(False, "--from-store", help="Use the ranking store's judged pairs.")
OUT = typer.Option(..., "--out", help="Name of the new model version (saved in BOTKIT_HOME/models/NAME).")
PROFILE = typer.Option(None, "--profile", help="cpu (default: small batches, fast settings) or gpu (bf16, larger batches).")
CONFIG = typer.Option(None, "--config", help="A YAML file of settings (see `feedback/train_config.py`); flags override it.")
MAX_STEPS = typer.Option(None, "--max-steps", help="Stop after N optimizer steps (quick runs).")
RESUME = typer.Option(False, "--resume", help="Continue an interrupted run of --out from its last checkpoint.")
MODEL = typer.Option(None, "--model", help="Base model ('default', a hub id, a directory) or a version to start from.")
PARENT = typer.Option(None, "--parent", help="A registered policy version whose adapter this run continues.")
PEFT = typer.Option(None, "--peft", help="lora (default) or prompt-tuning.")
LR = typer.Option(None, "--learning-rate", help="Peak learning rate.")
EPOCHS = typer.Option(None, "--epochs", help="Passes over the training split.")
BATCH = typer.Option(None, "--batch-size", help="Examples (pairs) per step.")
LORA_R = typer.Option(None, "--lora-r", help="LoRA rank.")
MAX_LENGTH = typer.Option(None, "--max-length", help="Token limit of prompt + response.")
SEED = typer.Option(None, "--seed", help="Seed of the held-out split and training.")


def _rows(method: str, data: Path | None, from_store: bool, settings) -> tuple[list[dict], str]:
    from botkit.feedback import train_data

    if bool(data) == bool(from_store):
        raise BotkitError("give exactly one of --data FILE.jsonl or --from-store")
    if data:
        read = {"sft": train_data.read_sft_file, "rl": train_data.read_prompt_file}.get(method,
                                                                                        train_data.read_preference_file)
        return read(data), str(data)
    pairs = train_data.preferences_from_store(settings)
    if method == "sft":  # the winners are examples of the voice to imitate
        return [{"prompt": p["prompt"], "completion": p["chosen"]} for p in pairs], "the ranking store"
    if method == "rl":
        unique = {json.dumps(p["prompt"], sort_keys=True): p["prompt"] for p in pairs}
        return [{"prompt": p} for p in unique.values()], "the ranking store"
    return pairs, "the ranking store"


def _train(method: str, *, data, from_store, out, profile, config_file, resume, json_out, **overrides) -> None:
    from rich.console import Console

    from botkit.config import load_settings

    config = load_config(CONFIGS[method], config_file, profile, **overrides)
    settings = load_settings()
    rows, source = _rows(method, data, from_store, settings)
    train = _trainer(method)
    # Transformers prints its log lines on stdout: keep stdout for the result (--json) alone.
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        version = train(config, rows, out, source=source, resume=resume, settings=settings)
    if json_out:
        print(json.dumps(version, indent=2, default=str))
        return
    console = Console(soft_wrap=True)
    console.print(f"[bold]{version['name']}[/bold] registered ({version['kind']}, {method}) in {version['adapter_path']}")
    for key, value in version["metrics"].items():
        console.print(f"  {key}: {round(value, 4) if isinstance(value, float) else value}", highlight=False)


def _trainer(method: str):
    if method == "sft":
        from botkit.feedback.train_sft import train_sft as train
    elif method == "rm":
        from botkit.feedback.train_rm import train_reward_model as train
    elif method == "dpo":
        from botkit.feedback.train_dpo import train_dpo as train
    else:
        from botkit.feedback.train_rl import train_rl as train
    return train


@train_app.command("sft")
def train_sft(data: Optional[Path] = DATA, from_store: bool = FROM_STORE, out: str = OUT,
              profile: Optional[str] = PROFILE, config: Optional[Path] = CONFIG, max_steps: Optional[int] = MAX_STEPS,
              resume: bool = RESUME, model: Optional[str] = MODEL, parent: Optional[str] = PARENT,
              peft: Optional[str] = PEFT, learning_rate: Optional[float] = LR, epochs: Optional[float] = EPOCHS,
              batch_size: Optional[int] = BATCH, lora_r: Optional[int] = LORA_R, max_length: Optional[int] = MAX_LENGTH,
              seed: Optional[int] = SEED, json_out: bool = JSON):
    """Fine-tune the chat model on your own copy (JSONL of text, prompt/completion or messages)."""
    _train("sft", data=data, from_store=from_store, out=out, profile=profile, config_file=config, resume=resume,
           json_out=json_out, max_steps=max_steps, model=model, parent=parent, peft=peft, learning_rate=learning_rate,
           num_train_epochs=epochs, per_device_train_batch_size=batch_size, lora_r=lora_r, max_length=max_length, seed=seed)


@train_app.command("rm")
def train_rm(data: Optional[Path] = DATA, from_store: bool = FROM_STORE, out: str = OUT,
             profile: Optional[str] = PROFILE, config: Optional[Path] = CONFIG, max_steps: Optional[int] = MAX_STEPS,
             resume: bool = RESUME,
             backbone: Optional[str] = typer.Option(None, "--backbone", help="minilm (default, fast on CPU), policy (the chat model's base) or a model spec."),
             peft: Optional[str] = PEFT, learning_rate: Optional[float] = LR, epochs: Optional[float] = EPOCHS,
             batch_size: Optional[int] = BATCH, lora_r: Optional[int] = LORA_R, max_length: Optional[int] = MAX_LENGTH,
             seed: Optional[int] = SEED, json_out: bool = JSON):
    """Train a reward model on preference pairs; reports held-out pairwise accuracy."""
    _train("rm", data=data, from_store=from_store, out=out, profile=profile, config_file=config, resume=resume,
           json_out=json_out, max_steps=max_steps, model=backbone, peft=peft, learning_rate=learning_rate,
           num_train_epochs=epochs, per_device_train_batch_size=batch_size, lora_r=lora_r, max_length=max_length, seed=seed)


@train_app.command("dpo")
def train_dpo(data: Optional[Path] = DATA, from_store: bool = FROM_STORE, out: str = OUT,
              profile: Optional[str] = PROFILE, config: Optional[Path] = CONFIG, max_steps: Optional[int] = MAX_STEPS,
              resume: bool = RESUME, model: Optional[str] = MODEL, parent: Optional[str] = PARENT,
              beta: Optional[float] = typer.Option(None, "--beta", help="Pull towards the base model (DPO beta)."),
              peft: Optional[str] = PEFT, learning_rate: Optional[float] = LR, epochs: Optional[float] = EPOCHS,
              batch_size: Optional[int] = BATCH, lora_r: Optional[int] = LORA_R, max_length: Optional[int] = MAX_LENGTH,
              seed: Optional[int] = SEED, json_out: bool = JSON):
    """DPO on preference pairs with a LoRA adapter; reports held-out reward accuracy and margin."""
    _train("dpo", data=data, from_store=from_store, out=out, profile=profile, config_file=config, resume=resume,
           json_out=json_out, max_steps=max_steps, model=model, parent=parent, beta=beta, peft=peft,
           learning_rate=learning_rate, num_train_epochs=epochs, per_device_train_batch_size=batch_size,
           lora_r=lora_r, max_length=max_length, seed=seed)


@train_app.command("rl")
def train_rl(data: Optional[Path] = DATA, from_store: bool = FROM_STORE, out: str = OUT,
             profile: Optional[str] = PROFILE, config: Optional[Path] = CONFIG, max_steps: Optional[int] = MAX_STEPS,
             resume: bool = RESUME, model: Optional[str] = MODEL, parent: Optional[str] = PARENT,
             reward_model: Optional[str] = typer.Option(None, "--reward-model", help="The reward version to optimise (default: the newest)."),
             beta: Optional[float] = typer.Option(None, "--beta", help="KL penalty to the base model."),
             num_generations: Optional[int] = typer.Option(None, "--num-generations", help="Answers sampled per prompt."),
             peft: Optional[str] = PEFT, learning_rate: Optional[float] = LR, epochs: Optional[float] = EPOCHS,
             batch_size: Optional[int] = BATCH, lora_r: Optional[int] = LORA_R, seed: Optional[int] = SEED,
             json_out: bool = JSON):
    """Online RL (GRPO) against a trained reward model, with a KL penalty to the base."""
    _train("rl", data=data, from_store=from_store, out=out, profile=profile, config_file=config, resume=resume,
           json_out=json_out, max_steps=max_steps, model=model, parent=parent, reward_model=reward_model, beta=beta,
           num_generations=num_generations, peft=peft, learning_rate=learning_rate, num_train_epochs=epochs,
           per_device_train_batch_size=batch_size, lora_r=lora_r, seed=seed)


@train_app.command("runs")
def train_runs(json_out: bool = JSON):
    """List training runs: running, finished, failed or interrupted (killed; resume with --resume)."""
    from botkit.feedback.registry import ModelRegistry

    rows = ModelRegistry.open().runs()
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['name']:24} {r['method']:4} {r['status']:12} {r['started_at']}  {r['error'] or ''}")


def models_promote(version: str = typer.Argument(..., help="A registered policy version."),
                   force: bool = typer.Option(False, "--force", help="Promote even when the gate blocks it."),
                   min_win_rate: Optional[float] = typer.Option(None, help="Gate: the human win rate needed against the active model (default: setting promotion_min_win_rate, 0.5)."),
                   min_judgements: Optional[int] = typer.Option(None, help="Gate: the human judgements needed against the active model (default: setting promotion_min_judgements, 10)."),
                   json_out: bool = JSON):
    """Make VERSION the model chat, plugins and the API answer with (gated by human judgements)."""
    from botkit.feedback.registry import ModelRegistry

    result = ModelRegistry.open().promote(version, force=force, min_win_rate=min_win_rate, min_judgements=min_judgements)
    if json_out:
        print(json.dumps(result, indent=2))
        return
    if result["forced"]:
        typer.echo(f"warning: promoted despite the gate (--force): {result['gate']['reason']}", err=True)
    typer.echo(f"{version} is now the active model (was {result['previous']}); `botkit models rollback` undoes it.")


def models_rollback(json_out: bool = JSON):
    """Go back to the model that was active before the last promotion."""
    from botkit.feedback.registry import ModelRegistry

    result = ModelRegistry.open().rollback()
    if json_out:
        print(json.dumps(result, indent=2))
        return
    typer.echo(f"rolled back {result['rolled_back']}; active model: {result['active']}")


def eval_rm(version: str = typer.Argument(..., help="A registered reward version."),
            data: Path = typer.Option(..., "--data", help="Preference pairs (TRL JSONL: prompt, chosen, rejected)."),
            json_out: bool = JSON):
    """Pairwise accuracy of a reward model: how often it scores `chosen` above `rejected`."""
    from botkit.feedback.train_data import read_preference_file
    from botkit.feedback.train_rm import evaluate_reward_model

    with contextlib.redirect_stdout(sys.stderr):
        report = evaluate_reward_model(version, read_preference_file(data))
    if json_out:
        print(json.dumps(report, indent=2))
        return
    typer.echo(f"{version}: accuracy {report['accuracy']:.1%} on {report['n']} pairs (mean margin {report['mean_margin']:.3f})")


def add_training_commands(app: typer.Typer, models_app: typer.Typer, eval_app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
    models_app.command("promote")(models_promote)
    models_app.command("rollback")(models_rollback)
    eval_app.command("rm")(eval_rm)
