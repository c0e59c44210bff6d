"""The `botkit` command: a thin shell over library functions (each command a few lines)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Optional

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from botkit.errors import BotkitError  # noqa: E402

app = typer.Typer(help="botkit: a brand chatbot with grounded answers and a human-feedback loop.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
models_app = typer.Typer(help="See, fetch and choose the chat model.", no_args_is_help=True)
app.add_typer(models_app, name="models")
eval_app = typer.Typer(help="Measure answer quality.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
plugins_app = typer.Typer(help="See the installed plugins and the tasks they add.", no_args_is_help=True)
app.add_typer(plugins_app, name="plugins")
from botkit.feedback.cli import feedback_app  # noqa: E402

app.add_typer(feedback_app, name="feedback")
from botkit.server.cli import keys_app, serve  # noqa: E402

app.add_typer(keys_app, name="keys")
app.command("serve")(serve)
from botkit.feedback.train_cli import add_training_commands  # noqa: E402

add_training_commands(app, models_app, eval_app)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")


def _bot():
    from botkit.dialogue import Bot

    return Bot()


def _print_json(data) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _decoding(strategy, max_new_tokens, temperature, top_k, top_p, num_beams, repetition_penalty, seed, stop) -> dict:
    given = dict(strategy=strategy, max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k,
                 top_p=top_p, num_beams=num_beams, repetition_penalty=repetition_penalty, seed=seed,
                 stop=stop or None)
    return {k: v for k, v in given.items() if v is not None}


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question to answer from the knowledge base."),
    json_out: bool = JSON,
    session: Optional[str] = typer.Option(None, help="Continue this session id."),
    strategy: Optional[str] = typer.Option(None, help="greedy | beam | sample"),
    max_new_tokens: Optional[int] = typer.Option(None, help="Cap on generated tokens."),
    temperature: Optional[float] = typer.Option(None, help="Sampling temperature."),
    top_k: Optional[int] = typer.Option(None, help="Top-k filtering (sampling)."),
    top_p: Optional[float] = typer.Option(None, help="Nucleus mass (sampling)."),
    num_beams: Optional[int] = typer.Option(None, help="Beams (strategy=beam)."),
    repetition_penalty: Optional[float] = typer.Option(None, help=">1 discourages repeats."),
    seed: Optional[int] = typer.Option(None, help="Seed for reproducible sampling."),
    stop: Optional[list[str]] = typer.Option(None, help="Stop sequence (repeatable)."),
):
    """Answer one question from the knowledge base, with citations."""
    options = _decoding(strategy, max_new_tokens, temperature, top_k, top_p, num_beams, repetition_penalty, seed, stop)
    bot = _bot()
    reply = bot.respond(question, session, **_validated(bot, options))
    if json_out:
        _print_json(reply.as_dict())
        return
    console.print(reply.text)
    _print_citations(reply)


def _validated(bot, options: dict) -> dict:
    from pydantic import ValidationError

    try:
        bot.settings.decoding.merged(**options)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BotkitError(f"bad decoding option {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return options


def _print_citations(reply) -> None:
    for c in reply.citations:
        console.print(f"  [dim][{c.n}] {c.title} — {c.source}[/dim]")


@app.command()
def chat(session: Optional[str] = typer.Option(None, help="Resume this session id.")):
    """Chat in the terminal: answers stream, with citations. Type /help for commands."""
    from rich.live import Live
    from rich.markdown import Markdown
    from rich.text import Text

    bot = _bot()
    session_id = bot.sessions.ensure(session)
    last = None
    console.print(f"[bold]{bot.brand.name}[/bold] assistant — /help for commands, Ctrl-D to leave.")
    while True:
        try:
            message = console.input("[bold cyan]you>[/bold cyan] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not message:
            continue
        if message in {"/quit", "/exit"}:
            return
        if message == "/help":
            console.print("/help  this list\n/reset  start a new conversation\n/sources  show the sources of the last answer\n/quit  leave")
            for name, task in sorted(bot.router.tasks.items()):
                words = " or ".join(f"/{w}" for w in (name, *task.aliases))
                console.print(f"{words} [options k=v] TEXT  {task.description}", highlight=False)
            continue
        if message == "/reset":
            session_id, last = bot.sessions.create(), None
            console.print("[dim]New conversation.[/dim]")
            continue
        if message == "/sources":
            if not last or not last.citations:
                console.print("[dim]The last answer cited no sources.[/dim]")
            for c in (last.citations if last else []):
                console.print(f"[bold][{c.n}] {c.title}[/bold] ({c.source}, relevance {c.score:.2f})\n{c.text}\n")
            continue
        streamed = Text()
        try:
            with Live(streamed, console=console, refresh_per_second=12) as live:
                for item in bot.stream(message, session_id):
                    if isinstance(item, str):
                        streamed.append(item)
                        live.update(streamed)
                    else:
                        last = item
                        # The checked answer replaces the raw stream (a quote when it was unsupported).
                        live.update(Markdown(item.text) if item.plugin else Text(item.text))
        except BotkitError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            continue
        if last.plugin:
            console.print(f"  [dim]{last.plugin}: {last.route}[/dim]", highlight=False)
        _print_citations(last)


@app.command()
def ingest(path: Path = typer.Argument(..., help="A file or folder: .md .txt .html .pdf, or .csv/.jsonl Q&A pairs."),
           json_out: bool = JSON):
    """Add documents to the knowledge base. Re-running skips unchanged files, replaces changed ones
    and removes deleted ones."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bot = _bot()
    files = bot.knowledge.files_under(path)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=json_out or not files) as progress:
        task = progress.add_task("Ingesting", total=len(files))
        report = bot.knowledge.ingest(path, on_file=lambda f: progress.update(task, advance=1, description=f.name[:40]))
    if json_out:
        _print_json(report.as_dict() | {"total_chunks": bot.knowledge.count()})
        return
    console.print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {report.chunks} new chunks; {bot.knowledge.count()} chunks in the knowledge base."
    )
    for problem in report.errors:
        err.print(f"[yellow]skipped:[/yellow] {problem}")


@models_app.command("list")
def models_list(json_out: bool = JSON):
    """List the chat and embedding models and which one is active."""
    from botkit.model_catalog import list_models

    rows = list_models()
    if json_out:
        _print_json(rows)
        return
    from rich.table import Table

    table = Table("", "name", "kind", "status", "location")
    for r in rows:
        table.add_row("*" if r["active"] else "", r["name"], r["kind"], r["status"], r["location"])
    console.print(table)


@models_app.command("pull")
def models_pull(model: str = typer.Argument("default", help="'default' (the embedded models) or a hub id.")):
    """Prepare a model ahead of time (convert the embedded default once, or download a hub model)."""
    from botkit.model_catalog import pull

    for line in pull(model):
        console.print(line)


@models_app.command("use")
def models_use(model: str = typer.Argument(..., help="'default', a hub id (org/name), a model directory or a .gguf file."),
               adapter: Optional[str] = typer.Option(None, help="A PEFT adapter directory to apply on top.")):
    """Make MODEL the one chat answers with (saved in BOTKIT_HOME/config.yaml)."""
    from botkit.model_catalog import use

    console.print(use(model, adapter))


@eval_app.command("grounding")
def eval_grounding(
    questions: Optional[Path] = typer.Option(None, help="JSONL of {question, expected: [...], source}; the sample brand's by default."),
    out_of_scope: Optional[Path] = typer.Option(None, help="JSONL of {question} the knowledge base cannot answer."),
    json_out: bool = JSON,
):
    """Ask a question set and report the share answered with the right fact and citation."""
    from rich.progress import Progress

    from botkit.feedback.evaluation.grounding import evaluate_grounding
    from botkit.jsonl import read_jsonl
    from botkit.prompting.brand import sample_brand_dir

    eval_dir = sample_brand_dir() / "eval"
    qs = read_jsonl(questions or eval_dir / "questions.jsonl", ("question", "expected"))
    oos = read_jsonl(out_of_scope, ("question",)) if out_of_scope else (
        [] if questions else read_jsonl(eval_dir / "out_of_scope.jsonl", ("question",)))
    bot = _bot()
    with Progress(console=err, disable=json_out) as progress:
        task = progress.add_task("Asking", total=len(qs) + len(oos))
        report = evaluate_grounding(bot, qs, oos, on_item=lambda: progress.advance(task))
    if json_out:
        _print_json(report)
        return
    for r in report["details"]:
        mark = "ok " if r.get("correct", r.get("dont_know")) else "MISS"
        console.print(f"{mark} {r['question']}\n     -> {r['answer']}", highlight=False)
    console.print(
        f"\nright fact + citation: {report['correct_with_citation']:.0%} of {report['questions']} "
        f"(model-phrased {report['model_phrased']:.0%}, quoted {report['quoted']:.0%}); "
        f"out-of-scope answered 'don't know': {report['out_of_scope_dont_know']:.0%} of {report['out_of_scope']}; "
        f"{report['completion_tokens_per_second']} tokens/s"
    )


@eval_app.command("task")
def eval_task(
    plugin: str = typer.Argument(..., help="The task to evaluate (see `botkit plugins list`)."),
    data: Path = typer.Argument(..., help='JSONL, one {"text": ..., "options": {...}} a line (sentiment: {"text", "label"}).'),
    option: Optional[list[str]] = typer.Option(None, "--option", "-o", help="A task option for every line, key=value."),
    json_out: bool = JSON,
):
    """Run a plugin's own evaluation on a dataset: limits kept, distinct variants, brand similarity."""
    from rich.progress import Progress

    from botkit.jsonl import read_jsonl
    from botkit.plugins import get_tasks
    from botkit.tasks import parse_option_pairs

    tasks = get_tasks()
    if plugin not in tasks:
        raise BotkitError(f"unknown plugin '{plugin}' (plugins: {', '.join(sorted(tasks))})")
    rows = read_jsonl(data, tasks[plugin].dataset_fields)
    bot = _bot()
    with Progress(console=err, disable=json_out) as progress:
        bar = progress.add_task(f"Evaluating {plugin}", total=len(rows))
        report = tasks[plugin].evaluate(bot, rows, lambda done: progress.update(bar, completed=done),
                                        **parse_option_pairs(option or []))
    if json_out:
        _print_json(report)
        return
    for key, value in report.items():
        console.print(f"{key}: {value}", highlight=False)


@eval_app.command("compare")
def eval_compare(a: str = typer.Argument(..., help="The version to beat ('default', a trained version, any model spec)."),
                 b: str = typer.Argument(..., help="The challenger version."),
                 prompts: Path = typer.Option(..., "--prompts", help='JSONL of {"prompt"} (optional "plugin", "options").'),
                 reward_model: Optional[str] = typer.Option(None, "--reward-model", help="A reward version (default: the newest)."),
                 json_out: bool = JSON):
    """Answer prompts with A and B, score both with a reward model (B's win rate with a 95% interval,
    mean rewards, length bias) and queue the pairs on the Rank page for humans to confirm."""
    from rich.progress import Progress

    from botkit.feedback.evaluation.compare import compare_versions
    from botkit.feedback.generate import read_prompts

    rows = read_prompts(prompts)
    with Progress(console=err, disable=json_out) as progress, contextlib.redirect_stdout(sys.stderr):
        task = progress.add_task("Answering", total=2 * len(rows))
        report = compare_versions(a, b, rows, reward_model=reward_model, on_step=lambda n: progress.advance(task, n))
    if json_out:
        _print_json(report)
        return
    low, high = report["ci"]
    length, reward = report["length"], report["mean_reward"]
    console.print(f"{report['b']} vs {report['a']} on {report['prompts']} prompts, scored by {report['reward_model']}:\n"
                  f"  win rate of B: {report['win_rate']:.0%} (95% Wilson interval {low:.0%}-{high:.0%}; "
                  f"{report['wins']} wins, {report['losses']} losses, {report['ties']} ties)\n"
                  f"  mean reward: A {reward['a']:.3f}, B {reward['b']:.3f}\n"
                  f"  mean length: A {length['mean_chars_a']:.0f} chars, B {length['mean_chars_b']:.0f} chars; "
                  f"reward-length correlation {_fmt(length['reward_length_spearman'])}; B's win rate among "
                  f"{length['length_matched_pairs']} length-matched pairs {_fmt(length['length_matched_win_rate'], '.0%')}\n"
                  f"  {report['queued_pairs']} blind pairs queued on the Rank page", highlight=False)
    if report["compared"]["identical"]:
        console.print(f"  {report['compared']['identical']} prompt(s) got the same answer and draft from both versions "
                      "(ties, not queued)", highlight=False)
    if report["gate"]:
        console.print(f"  promotion gate: {report['gate']['reason']}", highlight=False)


def _fmt(value, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


@plugins_app.command("list")
def plugins_list(json_out: bool = JSON):
    """List the tasks plugins provide: name, description and options (type, default)."""
    from botkit.tasks import describe_tasks

    rows = describe_tasks()
    if json_out:
        _print_json(rows)
        return
    for row in rows:
        console.print(f"[bold]{row['name']}[/bold]  {row['description']}", highlight=False)
        for o in row["options"]:
            console.print(f"    {o['name']}: {o['type']} = {o['default']!r}  [dim]{o['help']}[/dim]", highlight=False)


@app.command("run")
def run(plugin: str = typer.Argument(..., help="The task to run (see `botkit plugins list`)."),
        text: str = typer.Argument(..., help="The text the task works on."),
        option: Optional[list[str]] = typer.Option(None, "--option", "-o", help="A task option as key=value (repeatable)."),
        json_out: bool = JSON):
    """Run a plugin's task on TEXT with the active model."""
    from botkit.plugins import get_tasks
    from botkit.tasks import parse_option_pairs, run_task
    from botkit.usage import metered

    options = parse_option_pairs(option or [])
    bot = _bot()
    with metered() as usage:
        output = run_task(bot, plugin, text, **options)
    if json_out:
        _print_json({"plugin": plugin, "model": bot.engine.name, "output": output, "usage": usage})
        return
    _print_output(get_tasks()[plugin], output)


def _print_output(task, output) -> None:
    if isinstance(output, list) and output and all(isinstance(row, dict) for row in output):
        from rich.table import Table

        table = Table(*output[0])
        for row in output:
            table.add_row(*(", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in row.values()))
        console.print(table)
        return
    console.print(task.format(output), highlight=False)
    for c in task.citations(output):
        console.print(f"[dim][{c.n}] {c.source}[/dim]", highlight=False)


@app.command("app")
def run_app(port: int = typer.Option(8501, help="Port to serve on."),
            headless: bool = typer.Option(True, help="Do not open a browser.")):
    """Start the Streamlit app (chat)."""
    import subprocess

    from botkit.apps import main_script

    cmd = [sys.executable, "-m", "streamlit", "run", str(main_script()), "--server.port", str(port),
           "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "minimal"]
    raise typer.Exit(subprocess.call(cmd))


def _add_plugin_commands() -> None:
    from botkit.plugins import plugin_manager

    try:
        plugin_manager().hook.register_commands(cli=app)
    except BotkitError as exc:  # a broken plugin must not take the built-in commands down with it
        err.print(f"[yellow]warning:[/yellow] {exc}", highlight=False)


_add_plugin_commands()


def main() -> None:
    try:
        app()
    except BotkitError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
