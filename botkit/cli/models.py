"""`botkit models list|pull|use|promote|rollback`: see, fetch and choose the chat model, and move
trained versions in and out of service."""

from __future__ import annotations

from typing import Optional

import typer

from botkit.cli.output import JSON, console, fmt, print_json, print_table, warn

models_app = typer.Typer(help="See, fetch and choose the chat model; promote or roll back trained versions.",
                         no_args_is_help=True)


@models_app.command("list")
def models_list(json_out: bool = JSON):
    """List the chat and embedding models, trained versions, and which one is active."""
    from botkit.models.catalog import list_models

    rows = list_models()
    if json_out:
        print_json(rows)
        return
    print_table(("", "name", "kind", "status", "location"),
                (("*" if r["active"] else "", r["name"], r["kind"], r["status"], r["location"]) for r in rows))


@models_app.command("pull")
def models_pull(model: str = typer.Argument("default", help="'default' (the embedded models) or a hub id."),
                json_out: bool = JSON):
    """Prepare a model ahead of time (convert the embedded default once, or download a hub model)."""
    from botkit.models.catalog import pull

    done = pull(model)
    if json_out:
        print_json({"model": model, "done": done})
        return
    for line in done:
        console.print(line, highlight=False)


@models_app.command("use")
def models_use(
    model: str = typer.Argument(..., help="'default', a hub id (org/name), a model directory or a .gguf file."),
    adapter: Optional[str] = typer.Option(None, help="A PEFT adapter directory to apply on top."),
    json_out: bool = JSON,
):
    """Make MODEL the one chat answers with (saved in BOTKIT_HOME/config.yaml)."""
    from botkit.config import load_settings
    from botkit.models.catalog import use

    message = use(model, adapter)
    if json_out:
        saved = load_settings()
        print_json({"model": saved.model, "adapter": saved.adapter, "message": message})
        return
    console.print(message, highlight=False)


@models_app.command("promote")
def models_promote(
    version: str = typer.Argument(..., help="A registered policy version, or a reward version to rank best-of-N."),
    force: bool = typer.Option(False, "--force", help="Promote even when the gate blocks it."),
    min_win_rate: Optional[float] = typer.Option(None, help="Gate: the human win rate needed against the active "
                                                 "model (default: setting promotion_min_win_rate, 0.5)."),
    min_judgements: Optional[int] = typer.Option(None, help="Gate: the human judgements needed against the active "
                                                 "model (default: setting promotion_min_judgements, 10)."),
    json_out: bool = JSON,
):
    """Make VERSION the model chat, plugins and the API answer with (gated by human judgements)."""
    from botkit.feedback.registry import ModelRegistry

    result = ModelRegistry.open().promote(version, force=force, min_win_rate=min_win_rate,
                                          min_judgements=min_judgements)
    if json_out:
        print_json(result)
        return
    if result.get("kind") == "reward":
        vs = result["vs_brand_similarity"]
        console.print(f"{version} is now the reward model; on its {vs['pairs']} held-out pairs it scored "
                      f"{fmt(vs['reward_accuracy'], '.0%')} against brand similarity's "
                      f"{fmt(vs['brand_similarity_accuracy'], '.0%')}, so "
                      + ("it ranks best-of-N copy and orders the Rank queue." if result["ranks_best_of_n"]
                         else "brand similarity keeps ranking best-of-N copy."), highlight=False)
        return
    if result["forced"]:
        warn(f"promoted despite the gate (--force): {result['gate']['reason']}")
    console.print(f"{version} is now the active model (was {result['previous']}); "
                  "`botkit models rollback` undoes it.", highlight=False)


@models_app.command("rollback")
def models_rollback(json_out: bool = JSON):
    """Go back to the model that was active before the last promotion."""
    from botkit.feedback.registry import ModelRegistry

    result = ModelRegistry.open().rollback()
    if json_out:
        print_json(result)
        return
    console.print(f"rolled back {result['rolled_back']}; active model: {result['active']}", highlight=False)
