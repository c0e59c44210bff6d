"""`botkit train sft|rm|dpo|rl|runs`: thin commands over the `train_*` functions. Every setting of a
method's config (TRL's and botkit's) is a flag, parsed by TRL's parser; `--help` lists them all."""

from __future__ import annotations

import warnings
from importlib import import_module
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand

from botkit.cli.output import JSON, console, logs_to_stderr, print_json
from botkit.errors import BotkitError

train_app = typer.Typer(help="Train adapters from your copy and rankings; each run becomes a model version.",
                        no_args_is_help=True)

DATA = typer.Option(None, "--data", help="A JSONL file (TRL format).")
FROM_STORE = typer.Option(False, "--from-store", help="Use the ranking store's judged pairs.")
INCLUDE_FLAGGED = typer.Option(False, "--include-flagged", help="With --from-store: keep the verdicts of annotators "
                               "flagged for low gold accuracy or agreement (left out by default).")
OUT = typer.Option(..., "--out", help="Name of the new model version (saved in BOTKIT_HOME/models/NAME).")
PROFILE = typer.Option(None, "--profile", help="cpu (default: float32, small batches) or gpu (bf16, larger batches).")
CONFIG = typer.Option(None, "--config", help="A YAML file of settings (any listed below); flags override it.")
RESUME = typer.Option(False, "--resume", help="Continue an interrupted run of --out from its last checkpoint.")
SETTINGS_HELP = """
Settings: TRL's config for the method plus botkit's fields, each as --name VALUE (or --name-with-dashes),
or as a `name: value` line in --config FILE.yaml; --epochs is num_train_epochs, --batch-size is
per_device_train_batch_size. Precedence: defaults < --profile < --config < flags. The defaults shown
are the cpu profile's; output_dir is always the run's own (BOTKIT_HOME/models/NAME/checkpoints).

"""


def _settings_command(config: str) -> dict:
    """typer.command() arguments for a train command: the flags typer does not know go to TRL's
    parser, and --help also lists every setting of `config` ('module:Class', imported only then)."""
    class TrainCommand(TyperCommand):
        def format_help(self, ctx, formatter):
            from botkit.feedback.training.config import SettingsParser

            super().format_help(ctx, formatter)  # typer's rich help prints itself; the settings follow
            module, name = config.split(":")
            formatter.write(SETTINGS_HELP + SettingsParser(getattr(import_module(module), name)).help())

    return {"cls": TrainCommand, "context_settings": {"allow_extra_args": True, "ignore_unknown_options": True}}


def _train(ctx: typer.Context, config_class, train, read, *, data: Path | None, from_store: bool, out: str,
           profile: str | None, config: Path | None, resume: bool, json_out: bool, include_flagged: bool = False
           ) -> None:
    """Settings from ctx.args, rows from `read` (a file or the store), then `train` and its report."""
    from botkit.config import load_settings
    from botkit.feedback.training.config import load_config

    if bool(data) == bool(from_store):
        raise BotkitError("give exactly one of --data FILE.jsonl or --from-store")
    if include_flagged and not from_store:
        raise BotkitError("--include-flagged applies to --from-store (a file's rows are used as they are)")
    run_config = load_config(config_class, config, profile, args=ctx.args)
    settings = load_settings()
    rows, source = read(data, settings, include_flagged=include_flagged)
    with logs_to_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        version = train(run_config, rows, out, source=source, resume=resume, settings=settings)
    if json_out:
        print_json(version)
        return
    console.print(f"[bold]{version['name']}[/bold] registered ({version['kind']}, {version['method']}) "
                  f"in {version['adapter_path']}")
    for key, value in version["metrics"].items():
        console.print(f"  {key}: {round(value, 4) if isinstance(value, float) else value}", highlight=False)


# command -> (its config 'module:Class', that module's train function, the reader of feedback.training.data
# (or a 'module:function') that gives its rows from --data or the store, its --help)
METHODS = {
    "sft": ("botkit.feedback.training.sft:SFTRunConfig", "train_sft",
            "botkit.feedback.training.copy_archive:examples_from",
            "Fine-tune the chat model on your copy (text, prompt/completion or messages lines, or a copy archive:\n"
            "each brief becomes the chat its copy plugin sends; from the store: the winning answers); reports\n"
            "held-out loss and perplexity, and for an archive the share of held-out copy that passes the checks."),
    "rm": ("botkit.feedback.training.reward:RewardRunConfig", "train_reward_model", "preferences_from",
           "Train a reward model on preference pairs (--backbone minilm, policy or a model); reports\n"
           "held-out pairwise accuracy."),
    "dpo": ("botkit.feedback.training.dpo:DPORunConfig", "train_dpo", "preferences_from",
            "DPO on preference pairs with a LoRA adapter; reports held-out reward accuracy and margin."),
    "rl": ("botkit.feedback.training.rl:RLRunConfig", "train_rl", "botkit.feedback.training.rewards:rl_rows_from",
           "Online RL (GRPO) against verifiable rewards (--reward grounding, copy-checks) and/or a trained\n"
           "reward version (--reward version:NAME or --reward-model; default: the newest), with a KL penalty\n"
           "--beta to the base; --data takes prompts, or `question` lines asked of this home's documents\n"
           "(the grounded chats the engine receives); reports held-out rewards and win rate against the base."),
}


def _add_method(name: str, config_class: str, train: str, read: str, doc: str) -> None:
    """Add `botkit train NAME`; the method's module (which imports torch and TRL) loads only when it runs."""

    def command(ctx: typer.Context, data: Optional[Path] = DATA, from_store: bool = FROM_STORE, out: str = OUT,
                profile: Optional[str] = PROFILE, config: Optional[Path] = CONFIG, resume: bool = RESUME,
                include_flagged: bool = INCLUDE_FLAGGED, json_out: bool = JSON):
        from botkit.feedback.training import data as readers

        module, class_name = config_class.split(":")
        method = import_module(module)
        reader_module, _, reader = read.rpartition(":")
        reader = getattr(import_module(reader_module) if reader_module else readers, reader)
        _train(ctx, getattr(method, class_name), getattr(method, train), reader, data=data,
               from_store=from_store, out=out, profile=profile, config=config, resume=resume, json_out=json_out,
               include_flagged=include_flagged)

    command.__doc__ = doc
    train_app.command(name, **_settings_command(config_class))(command)


for _name, _method in METHODS.items():
    _add_method(_name, *_method)


@train_app.command("runs")
def runs(json_out: bool = JSON):
    """List training runs: running, finished, failed or interrupted (killed; resume with --resume)."""
    from botkit.feedback.registry import ModelRegistry

    rows = ModelRegistry.open().runs()
    if json_out:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['name']:24} {r['method']:4} {r['status']:12} {r['started_at']}  {r['error'] or ''}")


def add_training_commands(app: typer.Typer, *groups: typer.Typer) -> None:
    """Add the `train` group to `app` (the other groups are the `models` and `eval` modules' now)."""
    app.add_typer(train_app, name="train")
