"""`botkit eval grounding|task|compare|rm`: measure answers, a plugin's output, two model versions
against each other and a reward model (botkit.feedback.evaluation; a reward model scores pairs with
its own scorer, botkit.feedback.training.reward)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from botkit.cli.chat import load_bot
from botkit.cli.output import (
    JSON,
    OPTIONS,
    console,
    fmt,
    logs_to_stderr,
    parse_option_pairs,
    print_json,
    print_table,
    progress,
)
from botkit.errors import BotkitError

eval_app = typer.Typer(help="Measure answer quality, plugins, model versions and reward models.", no_args_is_help=True)


@eval_app.command("grounding")
def eval_grounding(
    questions: Optional[Path] = typer.Option(
        None, help="JSONL of {question, expected: [...], source, also_expected, previous}; the sample brand's "
                   "by default."),
    out_of_scope: Optional[Path] = typer.Option(None, help="JSONL of {question} the knowledge base cannot answer."),
    kb: Optional[str] = typer.Option(
        None, "--kb", help="A sample knowledge base to measure in a throwaway home: kettlebrook, helpdesk or all "
                           "(instead of this home's knowledge base)."),
    candidates: Optional[int] = typer.Option(
        None, "--candidates", help="Drafts sampled per answer, the best checked one shown (setting "
                                   "answer_candidates; 1: one streamed greedy draft)."),
    model: Optional[str] = typer.Option(None, "--model", help="Answer with this model: a registered version or "
                                                              "any model spec (setting model)."),
    json_out: bool = JSON,
):
    """Ask a question set and report the share answered with the right fact and citation, out-of-scope
    questions declined, each failure kind counted and seconds per answer."""
    from botkit.config import load_settings
    from botkit.feedback.evaluation.grounding import (
        SAMPLE_KBS,
        evaluate_grounding,
        evaluate_samples,
        read_question_sets,
        sample_kb_dir,
    )

    if kb is not None and (questions or out_of_scope):
        raise BotkitError("--kb measures a sample on its own questions: leave out --questions and --out-of-scope")
    names = list(SAMPLE_KBS) if kb == "all" else [sample_kb_dir(kb).name] if kb else []
    if candidates is not None and not 1 <= candidates <= 16:
        raise BotkitError(f"--candidates must be from 1 to 16 drafts per answer, not {candidates}")
    # Given options override config.yaml and the environment.
    settings = load_settings(**{k: v for k, v in {"answer_candidates": candidates, "model": model}.items()
                                if v is not None})
    sets = [read_question_sets(None, kb=name) for name in names] or [read_question_sets(questions, out_of_scope)]
    with progress(hidden=json_out) as bar, logs_to_stderr():
        task = bar.add_task("Asking", total=sum(len(qs) + len(oos) for qs, oos in sets))
        if names:
            reports = evaluate_samples(names, settings, on_item=lambda _: bar.advance(task))
        else:
            from botkit.dialogue import Bot

            reports = {"": evaluate_grounding(Bot(settings), *sets[0], on_item=lambda _: bar.advance(task))}
    for report in reports.values():
        report["answer_candidates"] = settings.answer_candidates
    if json_out:
        print_json(reports if kb == "all" else next(iter(reports.values())))
        return
    for name, report in reports.items():
        print_grounding_report(report, name)
    if len(reports) > 1:
        print_table(["figure", *reports], [
            ["right fact + citation", *(f"{r['right']}/{r['questions']}" for r in reports.values())],
            ["declined (answerable)", *(r["declined"] for r in reports.values())],
            ["out-of-scope declined", *(f"{r['out_of_scope_declined']}/{r['out_of_scope']}" for r in reports.values())],
            *([kind.replace("_", " "), *(r["failures"][kind] for r in reports.values())]
              for kind in next(iter(reports.values()))["failures"]),
            ["seconds p50 / p95", *(f"{r['seconds_p50']} / {r['seconds_p95']}" for r in reports.values())],
        ], title="Grounding on the sample knowledge bases")


def print_grounding_report(report: dict, name: str = "") -> None:
    """Each question with its verdict and failure kinds, then the figures."""
    from botkit.feedback.evaluation.grounding import FAILURE_KINDS

    if name:
        console.print(f"\n[bold]{name}[/bold] (ingested in {report['ingest_seconds']} s)", highlight=False)
    for r in report["details"]:
        mark = "ok " if r.get("correct", r.get("dont_know")) else "MISS"
        kinds = f"  [{', '.join(r['failures'])}]" if r["failures"] else ""
        asked = f"(after: {r['previous']}) " if r.get("previous") else ""
        console.print(f"{mark} {asked}{r['question']}{kinds}\n     -> {r['answer']}", highlight=False)
    n = report["questions"]
    console.print(
        f"\nright fact + citation: {report['right']} of {n} ({report['correct_with_citation']:.0%}; "
        f"model-phrased {report['model_phrased']:.0%}, copied from a source {report['copied']:.0%}, "
        f"quoted {report['quoted']:.0%}); declined {report['declined']}; "
        f"out-of-scope answered 'don't know': {report['out_of_scope_declined']} of {report['out_of_scope']}",
        highlight=False)
    if report["both_parts"]["asked"] or report["second_turn"]["asked"]:
        console.print(f"two-part questions with both facts: {report['both_parts']['complete']} of "
                      f"{report['both_parts']['asked']}; second turns right: {report['second_turn']['right']} of "
                      f"{report['second_turn']['asked']}", highlight=False)
    if report.get("answer_candidates", 1) > 1:
        console.print(f"best of {report['answer_candidates']} sampled drafts per answer", highlight=False)
    console.print(f"seconds per answer: p50 {report['seconds_p50']}, p95 {report['seconds_p95']} "
                  f"({report['answers_timed']} answers, start-up excluded); "
                  f"{report['completion_tokens_per_second']} tokens/s", highlight=False)
    print_table(["failure kind", "answers"], ([FAILURE_KINDS[k], v] for k, v in report["failures"].items()))


@eval_app.command("task")
def eval_task(
    plugin: str = typer.Argument(..., help="The task to evaluate (see `botkit plugins list`)."),
    data: Path = typer.Argument(
        ..., help='JSONL, one {"text": ..., "options": {...}} a line (sentiment: {"text", "label"}).'),
    option: Optional[list[str]] = OPTIONS,
    json_out: bool = JSON,
):
    """Run a plugin's own evaluation on a dataset (copy plugins: each check's pass rate over the candidates
    sampled, variants shown of those asked, the share of shown variants passing every check)."""
    from botkit.jsonl import read_jsonl
    from botkit.plugins import get_tasks

    tasks = get_tasks()
    if plugin not in tasks:
        raise BotkitError(f"unknown plugin '{plugin}' (plugins: {', '.join(sorted(tasks))})")
    rows = read_jsonl(data, tasks[plugin].dataset_fields)
    bot = load_bot()
    with progress(hidden=json_out) as bar:
        task = bar.add_task(f"Evaluating {plugin}", total=len(rows))
        report = tasks[plugin].evaluate(bot, rows, lambda done: bar.update(task, completed=done),
                                        **parse_option_pairs(option))
    if json_out:
        print_json(report)
        return
    for key, value in report.items():
        if key != "variants":
            console.print(f"{key}: {value}", highlight=False)
    for brief in report.get("variants", []):  # copy plugins: what a person would have been shown
        console.print(f"\n{brief['text']}", highlight=False)
        for variant in brief["shown"]:
            fails = f"  [fails: {', '.join(variant['fails'])}]" if variant["fails"] else ""
            console.print(f"  - {variant['copy']}{fails}", highlight=False, markup=False)
        if brief["note"]:
            console.print(f"  ({brief['note']})", highlight=False, markup=False)


@eval_app.command("compare")
def eval_compare(
    a: str = typer.Argument(..., help="The version to beat ('default', a trained version, any model spec)."),
    b: str = typer.Argument(..., help="The challenger version."),
    prompts: Path = typer.Option(..., "--prompts", help='JSONL of {"prompt"} (optional "plugin", "options").'),
    reward_model: Optional[str] = typer.Option(None, "--reward-model", help="A reward version (default: the newest)."),
    json_out: bool = JSON,
):
    """Answer prompts with A and B, score both with a reward model (B's win rate with a 95% interval,
    mean rewards, length bias) and queue the pairs on the Rank page for humans to confirm."""
    from botkit.feedback.evaluation.compare import compare_versions
    from botkit.feedback.generate import read_prompts

    rows = read_prompts(prompts)
    with progress(hidden=json_out) as bar, logs_to_stderr():
        task = bar.add_task("Answering", total=2 * len(rows))
        report = compare_versions(a, b, rows, reward_model=reward_model, on_step=lambda n: bar.advance(task, n))
    if json_out:
        print_json(report)
        return
    low, high = report["ci"]
    length, reward = report["length"], report["mean_reward"]
    console.print(f"{report['b']} vs {report['a']} on {report['prompts']} prompts, "
                  f"scored by {report['reward_model']}:\n"
                  f"  win rate of B: {report['win_rate']:.0%} (95% Wilson interval {low:.0%}-{high:.0%}; "
                  f"{report['wins']} wins, {report['losses']} losses, {report['ties']} ties)\n"
                  f"  mean reward: A {reward['a']:.3f}, B {reward['b']:.3f}\n"
                  f"  mean length: A {length['mean_chars_a']:.0f} chars, B {length['mean_chars_b']:.0f} chars; "
                  f"reward-length correlation {fmt(length['reward_length_spearman'])}; B's win rate among "
                  f"{length['length_matched_pairs']} length-matched pairs "
                  f"{fmt(length['length_matched_win_rate'], '.0%')}\n"
                  f"  {report['queued_pairs']} blind pairs queued on the Rank page", highlight=False)
    if skipped := {why: n for why, n in report["skipped_pairs"].items() if n}:
        counts = ", ".join(f"{n} {why}" for why, n in skipped.items())
        console.print("  not queued (not worth a person's time): " + counts
                      + (" (identical answers count as ties)" if skipped.get("identical") else ""), highlight=False)
    if report["gate"]:
        console.print(f"  promotion gate: {report['gate']['reason']}", highlight=False)


@eval_app.command("rm")
def eval_rm(version: str = typer.Argument(..., help="A registered reward version."),
            data: Path = typer.Option(..., "--data", help="Preference pairs (TRL JSONL: prompt, chosen, rejected)."),
            json_out: bool = JSON):
    """Pairwise accuracy of a reward model: how often it scores `chosen` above `rejected`."""
    from botkit.feedback.training.data import read_preference_file
    from botkit.feedback.training.reward import score_pairs

    with logs_to_stderr():
        report = score_pairs(version, read_preference_file(data))
    if json_out:
        print_json(report)
        return
    console.print(f"{version}: accuracy {report['accuracy']:.1%} on {report['n']} pairs "
                  f"(mean margin {report['mean_margin']:.3f})", highlight=False)
