"""`botkit ask`, `chat`, `ingest` and `app`: talking to the bot and filling its knowledge base."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.live import Live
from rich.markdown import Markdown
from rich.text import Text

from botkit.cli.output import JSON, console, err, print_error, print_json, progress
from botkit.repl import Shown, chat_loop


def load_bot():
    """The bot on the configured model (botkit.dialogue is imported here: it takes seconds, and
    `botkit --help` or `botkit keys list` should not wait for it)."""
    from botkit.dialogue import Bot

    return Bot()


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
    given = dict(strategy=strategy, max_new_tokens=max_new_tokens, temperature=temperature, top_k=top_k,
                 top_p=top_p, num_beams=num_beams, repetition_penalty=repetition_penalty, seed=seed,
                 stop=stop or None)
    options = {k: v for k, v in given.items() if v is not None}
    reply = load_bot().respond(question, session, **options)
    if json_out:
        print_json(reply.as_dict())
        return
    console.print(reply.text)
    print_citations(reply)


def print_citations(reply) -> None:
    for c in reply.citations:
        console.print(f"  [dim][{c.n}] {c.title} — {c.source}[/dim]")


def chat(session: Optional[str] = typer.Option(None, help="Resume this session id.")):
    """Chat in the terminal: answers stream, with citations. Type /help for commands."""
    chat_loop(load_bot(), read_message, TerminalChat().show, session)


def read_message() -> str | None:
    try:
        return console.input("[bold cyan]you>[/bold cyan] ")
    except (EOFError, KeyboardInterrupt):
        console.print()
        return None


class TerminalChat:
    """Shows the chat loop's output: pieces stream live and the checked answer replaces them."""

    def __init__(self):
        self.live: Live | None = None
        self.streamed = Text()

    def show(self, item: Shown) -> None:
        if item.kind == "chunk":
            if self.live is None:
                self.streamed = Text()
                self.live = Live(self.streamed, console=console, refresh_per_second=12)
                self.live.start()
            self.streamed.append(item.text)
            self.live.update(self.streamed)
        elif item.kind == "reply":
            reply = item.reply
            # The checked answer replaces the raw stream (a quote when it was unsupported).
            final = Markdown(reply.text) if reply.plugin else Text(reply.text)
            if self.live is None:
                console.print(final)
            else:
                self.live.update(final)
                self._stop()
            if reply.plugin:
                console.print(f"  [dim]{reply.plugin}: {reply.route}[/dim]", highlight=False)
            print_citations(reply)
        else:
            self._stop()
            if item.kind == "error":
                print_error(item.text)
            elif item.kind == "source":
                title, _, text = item.text.partition("\n")
                console.print(f"[bold]{title}[/bold]\n{text}\n", highlight=False)
            else:
                style = {"greeting": "bold", "notice": "dim"}.get(item.kind)
                console.print(f"[{style}]{item.text}[/{style}]" if style else item.text, highlight=False)

    def _stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def ingest(path: Path = typer.Argument(..., help="A file or folder: .md .txt .html .pdf, or .csv/.jsonl Q&A pairs."),
           json_out: bool = JSON):
    """Add documents to the knowledge base. Re-running skips unchanged files, replaces changed ones
    and removes deleted ones."""
    bot = load_bot()
    files = bot.knowledge.files_under(path)
    with progress(hidden=json_out or not files) as bar:
        task = bar.add_task("Ingesting", total=len(files))
        report = bot.knowledge.ingest(path, on_file=lambda f: bar.update(task, advance=1, description=f.name[:40]))
    if json_out:
        print_json(report.as_dict() | {"total_chunks": bot.knowledge.count()})
        return
    console.print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {report.chunks} new chunks; "
        f"{bot.knowledge.count()} chunks in the knowledge base."
    )
    for problem in report.errors:
        err.print(f"[yellow]skipped:[/yellow] {problem}")


def run_app(port: int = typer.Option(8501, help="Port to serve on."),
            headless: bool = typer.Option(True, help="Do not open a browser.")):
    """Start the Streamlit app (chat)."""
    from botkit.apps import main_script

    cmd = [sys.executable, "-m", "streamlit", "run", str(main_script()), "--server.port", str(port),
           "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "minimal"]
    raise typer.Exit(subprocess.call(cmd))
