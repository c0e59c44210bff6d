"""A brand's copy archive (past subject lines, ads, social posts and product blurbs, each with its
brief) as SFT rows: the chat each copy plugin sends the engine for that brief, the archived copy as
the completion, so the brand-voice adapter trains on the prompt it will be served; and how much of a
model's copy for held-out briefs passes the plugins' checks.

An archive line: {"kind": "subject_line", "task": "subject_lines", "brief": "...", "options": {...},
"subject": "..."}; its copy sits under the task's output fields (`Task.copy_prompts`): subject,
headline and/or description, post.
"""

from __future__ import annotations

import json
from pathlib import Path

from botkit.errors import BotkitError
from botkit.jsonl import read_jsonl

KINDS = {"subject_line": "subject_lines", "ad": "ad_copy", "product_blurb": "ad_copy", "social_post": "social_rewrite"}


def is_copy_archive(path: Path) -> bool:
    """Does the JSONL file at `path` hold archive lines (a `brief` and a `kind`) rather than TRL rows?"""
    rows = read_jsonl(Path(path))
    return bool(rows) and all("brief" in r and "kind" in r for r in rows)


def read_copy_archive(path: Path) -> list[dict]:
    """The archive's items, checked: a known kind, its task, a brief, and copy in at least one field."""
    items, bad = read_jsonl(Path(path)), []
    for number, item in enumerate(items, 1):
        if KINDS.get(item.get("kind")) != item.get("task") or not str(item.get("brief", "")).strip():
            bad.append(number)
        elif not copy_fields(item):
            bad.append(number)
    if bad:
        raise BotkitError(f"{path}: line(s) {', '.join(map(str, bad[:10]))} need a kind ({', '.join(KINDS)}), "
                          "its task, a brief and the copy under the task's fields")
    return items


def copy_fields(item: dict) -> dict[str, str]:
    """The copy an archive item holds, by output field."""
    from botkit.plugins import get_task

    fields = _fields(get_task(item["task"]))
    return {f: item[f] for f in fields if isinstance(item.get(f), str) and item[f].strip()}


def archive_rows(items: list[dict], bot) -> list[dict]:
    """One SFT row per archived field: `prompt` the chat the task sends for the item's brief and options
    on `bot` (its brand), `completion` the archived copy; `question` (the brief and its options) keeps
    every row of a brief on one side of the held-out split, `brief`/`task`/`field`/`options` let the
    held-out copy be checked."""
    from botkit.plugins import get_task
    from botkit.tasks.model import to_chat

    rows = []
    for item in items:
        task = get_task(item["task"])
        options = item.get("options") or {}
        prompts = task.copy_prompts(bot, task.parse_options(options))
        for field, text in copy_fields(item).items():
            rows.append({"prompt": to_chat(prompts[field].prompt.invoke(item["brief"])), "completion": text,
                         "question": f"{item['brief']} {sorted(options.items())}", "brief": item["brief"],
                         "task": item["task"], "field": field, "options": options, "kind": item["kind"]})
    return rows


def copy_failures(bot, rows: list[dict], texts: list[str]) -> list[list[str]]:
    """For each row's copy `texts[i]`: the checks it fails (its field's limit, then `CopyChecks` against
    the row's brief, as the plugin checks its candidates); [] when it passes."""
    from botkit.tasks.copy import repeats_itself
    from botkit.tasks.copy_checks import CopyChecks

    out = []
    for row, text in zip(rows, texts):
        spec = _spec(bot, row)
        limits = (["empty"] if not text else []) + (["over the limit"] if len(text) > spec.limit else []) + (
            ["repeats itself"] if repeats_itself(text) else [])
        out.append(limits + CopyChecks(bot, row["brief"], brand_words=spec.brand_words).failures([text])[0])
    return out


def generated_copy(engine, bot, rows: list[dict], batch: int = 8) -> list[str]:
    """One candidate per row from `engine` for the row's prompt (greedy, the field's token budget), cleaned
    and kept to whole sentences within the limit, as best-of-N treats each of its samples."""
    from botkit.tasks.copy import whole_sentences

    specs = [_spec(bot, r) for r in rows]
    texts = [""] * len(rows)
    by_budget: dict[int, list[int]] = {}
    for i, spec in enumerate(specs):
        by_budget.setdefault(spec.max_new_tokens, []).append(i)
    for tokens, indexes in by_budget.items():
        options = bot.settings.decoding.merged(strategy="greedy", max_new_tokens=tokens)
        for start in range(0, len(indexes), batch):
            chunk = indexes[start:start + batch]
            for i, g in zip(chunk, engine.generate_batch([rows[i]["prompt"] for i in chunk], options)):
                texts[i] = whole_sentences(specs[i].clean(g.text), specs[i].limit, g.completion_tokens >= tokens)
    return texts


def copy_pass_rate(engine, bot, rows: list[dict]) -> dict:
    """How `engine` writes for held-out archive rows: the share of their distinct prompts (a brief, its
    options and field: several archived lines share one) whose one greedy candidate passes every check,
    and the candidates with what they fail."""
    distinct = {json.dumps(r["prompt"], sort_keys=True): r for r in rows if "task" in r and "field" in r}
    rows = list(distinct.values())
    texts = generated_copy(engine, bot, rows)
    failures = copy_failures(bot, rows, texts)
    passed = sum(not f for f in failures)
    return {"rate": round(passed / len(rows), 4) if rows else 0.0, "rows": len(rows),
            "outputs": [{"brief": r["brief"], "task": r["task"], "field": r["field"], "options": r["options"],
                         "text": t, "failed": f} for r, t, f in zip(rows, texts, failures)]}


def examples_from(path: Path | None, settings, *, include_flagged: bool = False) -> tuple[list[dict], str]:
    """`botkit train sft`'s rows: a copy archive as chat rows (the brand of this home's bot), else what
    `feedback.training.data.examples_from` reads (a TRL file or the store's winning answers)."""
    from botkit.feedback.training import data

    if path and Path(path).exists() and is_copy_archive(path):
        from botkit.dialogue import Bot

        return archive_rows(read_copy_archive(path), Bot(settings)), f"{path} (copy archive)"
    return data.examples_from(path, settings, include_flagged=include_flagged)


def _fields(task) -> tuple[str, ...]:
    fields = getattr(task, "copy_fields", ())
    if not fields:
        raise BotkitError(f"the {task.name} task writes no archived copy (it has no copy_fields)")
    return fields


def _spec(bot, row: dict):
    """The plugin's `CopyPrompt` for a row's field, with the row's options."""
    from botkit.plugins import get_task

    task = get_task(row["task"])
    return task.copy_prompts(bot, task.parse_options(row["options"]))[row["field"]]
