"""`botkit backup OUT` and `botkit restore IN`: a whole BOTKIT_HOME (database, Chroma, adapters) in one archive."""

from __future__ import annotations

from pathlib import Path

import typer

from botkit.cli.output import JSON, console, print_json, progress, warn


def _bar(hidden: bool):
    """A progress bar with one line per stage, and the callback botkit.backup reports through."""
    bar, tasks = progress(hidden=hidden), {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, report


def backup(out: Path = typer.Argument(..., help="The archive to write (tar.gz), e.g. botkit-2026-01-31.tar.gz."),
           json_out: bool = JSON):
    """Back up BOTKIT_HOME while it is in use: the database, Chroma and the adapters, in one archive."""
    from botkit.backup import backup_home
    from botkit.config import load_settings

    bar, report = _bar(json_out)
    with bar:
        manifest = backup_home(load_settings(), out, on_progress=report)
    if json_out:
        print_json(manifest)
        return
    counts = manifest["counts"]
    console.print(f"{manifest['archive']}: {manifest['bytes'] / 1e6:.1f} MB; {counts.get('comparisons', 0)} "
                  f"comparisons, {counts.get('messages', 0)} messages, {sum(manifest['chroma'].values())} knowledge "
                  f"chunks, {len(manifest['adapters'])} model version(s)", highlight=False, markup=False)
    if manifest["missing_adapters"]:
        warn(f"registered but without adapter files: {', '.join(manifest['missing_adapters'])}")


def restore(archive: Path = typer.Argument(..., help="An archive written by `botkit backup`."),
            force: bool = typer.Option(False, "--force", help="Replace the database, Chroma and adapters of a "
                                                               "BOTKIT_HOME that is not empty."),
            json_out: bool = JSON):
    """Restore a backup into BOTKIT_HOME (an empty one, unless --force), on this or another machine."""
    from botkit.backup import restore_home
    from botkit.config import load_settings

    bar, report = _bar(json_out)
    with bar:
        result = restore_home(load_settings(), archive, force=force, on_progress=report)
    if json_out:
        print_json(result)
        return
    counts = result["counts"]
    console.print(f"restored {result['home']} from {result['archive']} (made {result['created_at']}): "
                  f"{counts.get('comparisons', 0)} comparisons, {counts.get('messages', 0)} messages, "
                  f"{sum(result['chroma'].values())} knowledge chunks, {len(result['adapters'])} model version(s)",
                  highlight=False, markup=False)
