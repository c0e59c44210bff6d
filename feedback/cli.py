"""`botkit feedback ...`: import and export preference data, store statistics, candidate generation."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Column

from botkit.cli.output import JSON, console, fmt, print_json, print_table, progress, warn
from botkit.errors import BotkitError

feedback_app = typer.Typer(help="Rankings: import, export, statistics and candidate pairs.", no_args_is_help=True)


def _store():
    from botkit.config import load_settings
    from botkit.feedback.store import RankingStore

    return RankingStore.open(load_settings())


@feedback_app.command("import")
def import_(file: Path = typer.Argument(..., help="TRL preference JSONL: prompt, chosen, rejected (+ annotator)."),
            annotator: str = typer.Option("import", help="Who judged lines that name no annotator."),
            keep_good: bool = typer.Option(False, "--keep-good", help="Import the good lines of a file with bad ones."),
            json_out: bool = JSON):
    """Import preference pairs in TRL's format (strings or chat message lists)."""
    report = _store().import_trl(file, annotator=annotator, keep_good=keep_good)
    if json_out:
        print_json(report)
        return
    console.print(f"imported {report['pairs']} judged pairs (lines) by {', '.join(report['annotators']) or 'nobody'}",
                  highlight=False, markup=False)
    if report["bad_lines"]:
        warn(f"skipped malformed line(s): {', '.join(map(str, report['bad_lines']))}")


@feedback_app.command("export")
def export(out: Path = typer.Argument(..., help="Where to write the JSONL (the test split goes beside it as "
                                                 "OUT.test.jsonl)."),
           format: str = typer.Option("trl", "--format", help="Only 'trl' (prompt/chosen/rejected) for now."),
           ties: str = typer.Option("skip", help="Ties and both-bad need a winner for DPO/RM: 'skip' is the only "
                                                 "choice for trl."),
           plugin: Optional[str] = typer.Option(None, help="Only pairs for this plugin's prompts."),
           since: Optional[str] = typer.Option(None, help="Only judgements made on or after this date (2026-01-31)."),
           min_agreement: float = typer.Option(0.0, help="Keep pairs whose majority verdict has at least this share "
                                                         "of annotators."),
           min_annotators: int = typer.Option(1, help="Keep pairs judged by at least this many annotators."),
           test_fraction: float = typer.Option(0.0, help="Share of prompts held out as a test split."),
           seed: int = typer.Option(0, help="Changes which prompts the split holds out (the same prompts as "
                                            "`botkit train --from-store` with --seed and --test_fraction)."),
           include_flagged: bool = typer.Option(False, "--include-flagged", help="Keep the verdicts of annotators "
                                                "flagged for low gold accuracy or agreement (see feedback stats)."),
           no_redact: bool = typer.Option(False, "--no-redact", help="Keep e-mail addresses, phone and card numbers "
                                          "(redacted by default; setting feedback.redact_pii)."),
           completion: str = typer.Option("output", help="'output': chosen/rejected are the model's own outputs "
                                          "(the draft behind a quote); 'shown': the texts people were shown."),
           json_out: bool = JSON):
    """Write judged pairs as TRL preference data with provenance, optionally split train/test."""
    from botkit.config import load_settings
    from botkit.feedback.trl_format import export_trl

    if format != "trl":
        raise BotkitError(f"unknown export format '{format}' (formats: trl)")
    settings = load_settings()
    report = export_trl(_store(), out, ties=ties, plugin=plugin, since=since, min_agreement=min_agreement,
                        test_fraction=test_fraction, seed=seed, min_annotators=min_annotators,
                        include_flagged=include_flagged, redact=False if no_redact else None,
                        completion=completion, settings=settings.feedback)
    if json_out:
        print_json(report)
        return
    skipped = ", ".join(f"{n} {why}" for why, n in report["skipped"].items() if n) or "none"
    test = f", {report['test']} test rows in {report['test_path']}" if report["test_path"] else ""
    console.print(f"{report['train']} rows in {report['path']}{test}; skipped pairs: {skipped}",
                  highlight=False, markup=False)
    for name, reasons in report["flagged_annotators"].items():
        warn(f"left out {name}'s verdicts: {'; '.join(reasons)} (--include-flagged keeps them)")
    if report["redacted"]:
        console.print("redacted: " + ", ".join(f"{n} {kind}" for kind, n in sorted(report["redacted"].items())),
                      highlight=False)


@feedback_app.command("stats")
def stats(json_out: bool = JSON):
    """Counts, annotator agreement and per-model win rates of the ranking store."""
    from botkit.config import load_settings
    from botkit.feedback.stats import preference_stats

    data = preference_stats(_store(), load_settings().feedback)
    if json_out:
        print_json(data)
        return
    console.print("  ".join(f"{k}: {v}" for k, v in data["counts"].items()), highlight=False)
    a = data["agreement"]
    if a["pairs_with_2plus"]:
        console.print(f"agreement: {a['agreeing']} of {a['pairs_with_2plus']} pairs judged by 2+ annotators got the "
                      f"same verdict ({a['share']:.0%}); Krippendorff's alpha {fmt(a['krippendorff_alpha'])}",
                      highlight=False)
        for k in a["cohen_kappa"]:
            console.print(f"  Cohen's kappa {k['annotator_1']} / {k['annotator_2']}: {fmt(k['kappa'])} "
                          f"over {k['n']} pairs",
                          highlight=False)
    # The version's whole name on one line: cut to "SmolLM2-135M-Ins…", two versions of one base look alike.
    print_table((Column("model version", no_wrap=True), "rating (BT)", "win rate", "wins", "losses", "ties",
                 "both bad"),
                ((r["model"], fmt(data["ratings"].get(r["model"]), ".0f"), fmt(r["win_rate"], ".0%"),
                  r["wins"], r["losses"], r["ties"], r["both_bad"]) for r in data["win_rates"]),
                title="Model versions", empty="No comparisons between two different model versions yet.")
    print_table(("annotator", "comparisons", "median s", "gold accuracy", "agreement", "flagged"),
                ((r["annotator"], r["comparisons"], fmt(r["median_seconds"], ".1f"),
                  "-" if r["gold_accuracy"] is None else f"{r['gold_accuracy']:.0%} of {r['gold']}",
                  "-" if r["agreement"] is None else f"{r['agreement']:.0%} of {r['shared']}",
                  "; ".join(r["reasons"]) or "-")
                 for r in data["annotators"]), title="Annotators")


annotators_app = typer.Typer(help="Annotators of the app and their admin role.", no_args_is_help=True)
feedback_app.add_typer(annotators_app, name="annotators")


@annotators_app.command("add")
def annotators_add(name: str = typer.Argument(..., help="The name the annotator signs in with (or OIDC e-mail)."),
                   admin: Optional[bool] = typer.Option(None, "--admin/--no-admin",
                                                        help="Give or take away the admin role (Train page, "
                                                             "promotion, exports)."),
                   json_out: bool = JSON):
    """Add an annotator (or change their admin role)."""
    store = _store()
    name = store.add_annotator(name)
    is_admin = store.set_admin(name, admin) if admin is not None else name in store.admins()
    if json_out:
        print_json({"annotator": name, "admin": is_admin})
        return
    console.print(f"{name}: {'admin' if is_admin else 'annotator'}", highlight=False, markup=False)


@annotators_app.command("list")
def annotators_list(json_out: bool = JSON):
    """Annotators in the ranking store and who is an admin."""
    store = _store()
    admins = set(store.admins())
    rows = [{"annotator": n, "admin": n in admins} for n in store.annotators()]
    if json_out:
        print_json(rows)
        return
    print_table(("annotator", "admin"), ((r["annotator"], "yes" if r["admin"] else "-") for r in rows),
                title="Annotators", empty="No annotators yet.")


fewshot_app = typer.Typer(help="Few-shot examples from agreed rankings.", no_args_is_help=True)
feedback_app.add_typer(fewshot_app, name="fewshot")


@fewshot_app.command("promote")
def fewshot_promote(min_annotators: Optional[int] = typer.Option(
                        None, min=1, help="Annotators who must all pick the winner (default: setting "
                                   "feedback.fewshot_min_annotators, 2)."),
                    dry_run: bool = typer.Option(False, "--dry-run", help="List the agreed winners, add nothing."),
                    json_out: bool = JSON):
    """Add chat pairs' agreed winners as few-shot examples: the next similar question is shown them."""
    from botkit.config import load_settings
    from botkit.feedback.agreed_examples import agreed_winners, promote_agreed

    store = _store()
    needed = min_annotators or load_settings().feedback.fewshot_min_annotators
    rows = agreed_winners(store, needed) if dry_run else promote_agreed(store, needed)
    if json_out:
        print_json({"added": 0 if dry_run else len(rows), "min_annotators": needed, "examples": rows})
        return
    what = "agreed winner(s) not yet examples" if dry_run else "few-shot example(s) added"
    console.print(f"{len(rows)} {what} ({needed} or more annotators all picked them)", highlight=False)
    for r in rows:
        console.print(f"- {r['input']} -> {r['output']}", highlight=False, markup=False)


@feedback_app.command("generate")
def generate(prompts: Optional[Path] = typer.Argument(None, help='JSONL of {"prompt"} or {"text"}, optional "plugin" '
                                                            'and "options".'),
             versions: str = typer.Option("active", help="Comma-separated model versions: 'active', 'default', a "
                                                         "model or adapter dir, a hub id."),
             decodings: str = typer.Option("greedy", help="Comma-separated strategies: greedy, beam, sample."),
             from_chat: bool = typer.Option(False, "--from-chat",
                                            help="Use the user turns logged in chat instead of a file."),
             limit: Optional[int] = typer.Option(None, help="At most this many prompts."),
             batch_size: int = typer.Option(8, help="Prompts answered per batched model call."),
             seed: Optional[int] = typer.Option(None, help="Seed for sampled decodings."),
             json_out: bool = JSON):
    """Answer prompts with two or more versions/decodings and store the answers as pairs to rank."""
    from botkit.config import load_settings
    from botkit.feedback.generate import candidates, chat_prompts, generate_pairs, read_prompts
    from botkit.feedback.store import RankingStore

    if (prompts is None) == (not from_chat):
        raise BotkitError("give a PROMPTS.jsonl file or --from-chat (not both)")
    settings = load_settings()
    store = RankingStore.open(settings)
    rows = chat_prompts(store.db, limit) if from_chat else read_prompts(prompts)[:limit]
    if not rows:
        raise BotkitError("no prompts to answer" + (" (no chat turns are logged yet)" if from_chat else ""))
    cands = candidates([v.strip() for v in versions.split(",") if v.strip()],
                       [d.strip() for d in decodings.split(",") if d.strip()], seed)
    with progress(hidden=json_out) as bar:
        task = bar.add_task("Answering", total=len(rows) * len(cands))
        report = generate_pairs(store, settings, rows, cands, batch_size=batch_size,
                                on_step=lambda n: bar.advance(task, n))
    if json_out:
        print_json(report.as_dict())
        return
    console.print(f"{report.pairs} pairs from {report.prompts} prompts and {len(cands)} candidates "
                  f"({', '.join(report.versions)}); {report.summary()}", highlight=False)
