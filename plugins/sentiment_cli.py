"""`botkit sentiment train|eval|predict`, added to the CLI by the sentiment plugin's
`register_commands` hook: thin commands over `plugins/sentiment_classifier.py` and the task."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from botkit.cli.output import JSON, console, print_json, print_table, progress, warn
from botkit.errors import BotkitError

sentiment_app = typer.Typer(help="Train, measure and run the sentiment classifier.", no_args_is_help=True)
SKIP_BAD = typer.Option(False, "--skip-bad",
                        help="Keep the good lines of a file with bad ones (and say how many were skipped).")
MODE = typer.Option(None, help="zero-shot | few-shot | trained (default: trained with --model, else few-shot).")
MODEL = typer.Option(None, "--model", help="A classifier directory made by `botkit sentiment train`.")


def _progress(label: str, total: int, hidden: bool):
    bar = progress(hidden, transient=True)
    task = bar.add_task(label, total=total)
    return bar, lambda done: bar.update(task, completed=done)


def _read(file: Path, labeled: bool, skip_bad: bool) -> list[dict]:
    from botkit.default_plugins.sentiment_classifier import read_examples

    rows, skipped = read_examples(file, labeled, skip_bad)
    if skipped:
        warn(f"skipped {skipped} bad line(s) of {file}")
    return rows


def _task_and_bot():
    from botkit.dialogue import Bot
    from botkit.plugins import get_tasks

    return get_tasks()["sentiment"], Bot()


def _options(mode: Optional[str], model: Optional[Path]) -> dict:
    return {k: v for k, v in {"mode": mode, "model": str(model) if model else None}.items() if v}


@sentiment_app.command("train")
def train(file: Path = typer.Argument(
              ..., help='JSONL, one {"text": ..., "label": "positive"|"negative"|"neutral"} a line.'),
          out: Path = typer.Option(..., "--out", help="Directory to save the classifier and its metrics in."),
          encoder: str = typer.Option("tuned", help="tuned: fine-tune MiniLM on the texts first (SetFit's method); "
                                                    "frozen: MiniLM as shipped (seconds, less accurate)."),
          epochs: int = typer.Option(3, min=1, max=20, help="Fine-tuning passes over the texts (encoder tuned)."),
          heldout: float = typer.Option(0.2, min=0.05, max=0.5,
                                        help="Share of each label held out to measure the model."),
          seed: int = typer.Option(0, help="Seed of the held-out split and of fine-tuning."),
          skip_bad: bool = SKIP_BAD, json_out: bool = JSON):
    """Train a classifier (logistic regression on MiniLM embeddings, MiniLM fine-tuned first unless
    --encoder frozen) and report held-out metrics."""
    from botkit.default_plugins.sentiment_classifier import SentimentTrainConfig, train_classifier
    from botkit.default_plugins.sentiment_encoder import EncoderTuneConfig
    from botkit.embeddings import Embedder

    if encoder not in ("tuned", "frozen"):
        raise BotkitError(f"--encoder must be tuned or frozen, not {encoder!r}")
    rows = _read(file, True, skip_bad)
    config = SentimentTrainConfig(encoder=encoder, heldout=heldout, seed=seed,
                                  tune=EncoderTuneConfig(epochs=epochs, seed=seed))
    bar = progress(json_out, transient=True)
    stages: dict[str, int] = {}

    def advance(stage: str, done: int, total: int) -> None:
        if stage not in stages:
            stages[stage] = bar.add_task(stage, total=total)
        bar.update(stages[stage], completed=done, total=total)

    with bar:
        metrics = train_classifier(rows, out, Embedder(), config, advance)
    if json_out:
        print_json({k: v for k, v in metrics.items() if not k.endswith("_lines")} | {"out": str(out)})
        return
    _print_report(metrics["heldout"], f"held-out {len(metrics['heldout_lines'])} of {metrics['examples']} examples")
    console.print(f"trained in {metrics['train_seconds']:.1f} s ({metrics['cpu_seconds']:.0f} CPU s); "
                  f"saved to {out}", highlight=False)


def _over_file(name: str, file_help: str, labeled: bool, show):
    """Add `run(task, bot, rows, advance, options)` as `botkit sentiment NAME FILE [--model] [--mode]
    [--skip-bad] [--json]`, its docstring the command's help: --json prints what it returns, else `show`."""

    def register(run):
        def command(file: Path = typer.Argument(..., help=file_help), model: Optional[Path] = MODEL,
                    mode: Optional[str] = MODE, skip_bad: bool = SKIP_BAD, json_out: bool = JSON):
            rows = _read(file, labeled, skip_bad)
            task, bot = _task_and_bot()
            options = _options(mode, model)
            task.parse_options(options)  # a bad --mode is an error before any model loads
            progress, advance = _progress("Classifying", len(rows), json_out)
            with progress:
                result = run(task, bot, rows, advance, options)
            if json_out:
                print_json(result)
            else:
                show(result)

        command.__doc__ = run.__doc__
        sentiment_app.command(name)(command)
        return run

    return register


@_over_file("eval", 'JSONL, one {"text": ..., "label": ...} a line.', labeled=True,
            show=lambda report: _print_report(report, f"{report['n']} examples"))
def evaluate(task, bot, rows: list[dict], advance, options: dict) -> dict:
    """Precision, recall and F1 per class, macro averages, accuracy and the confusion matrix on FILE."""
    return task.evaluate(bot, rows, advance, **options)


@_over_file("predict", 'JSONL, one {"text": ...} a line.', labeled=False,
            show=lambda out: print_table(("line", "label", "confidence", "text"),
                                         ((r["line"], r["label"], f"{r['confidence']:.2f}", r["text"]) for r in out)))
def predict(task, bot, rows: list[dict], advance, options: dict) -> list[dict]:
    """Label every text of FILE."""
    results = task.classify(bot, [r["text"] for r in rows], advance, **options)
    return [{"line": r["line"], "text": r["text"], "label": p["label"], "confidence": p["scores"][p["label"]]}
            for r, p in zip(rows, results)]


def _print_report(report: dict, caption: str) -> None:
    m = report["macro"]
    rows = [(label, f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}", c["support"])
            for label, c in report["per_class"].items()]
    rows.append(("[bold]macro[/bold]", f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", report["n"]))
    print_table(("label", "precision", "recall", "F1", "support"), rows, caption=caption)
    console.print(f"accuracy {report['accuracy']:.3f}", highlight=False)
    print_table(("true \\ predicted", *report["labels"]),
                ((label, *counts) for label, counts in zip(report["labels"], report["confusion_matrix"])),
                title="confusion matrix")
